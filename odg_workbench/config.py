"""Workspace configuration: settings declared as data, stored in ``odg.toml``.

A value is looked up in this order: the environment variable of the setting
(``ODG_<SECTION>_<KEY>``, e.g. ``ODG_STATE_URL``), the workspace's ``odg.toml``, then the
default declared in :data:`SETTINGS`. Two substitutions apply to every string value:

* ``{workspace}`` becomes the absolute path of the workspace folder, so a workspace can
  be moved or cloned without editing its configuration;
* ``${NAME}`` becomes the environment variable ``NAME``, so secrets (catalog tokens, S3
  keys, database passwords) live in the environment, never in the file or the logs.

The ``[catalog]`` table is handed to :func:`pyiceberg.catalog.load_catalog` as it is, so any
pyiceberg catalog property works there (``type = "rest"``, ``uri``, ``credential``,
``s3.endpoint``, ...). See ``docs/configuration.md`` for recipes.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from odg_workbench.errors import ConfigError

__all__ = ["CONFIG_FILE", "SETTINGS", "Config", "Setting"]

CONFIG_FILE = "odg.toml"


@dataclass(frozen=True)
class Setting:
    """One documented setting: ``section.key``, its default, type and help text."""

    key: str
    default: Any
    help: str

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def env(self) -> str:
        return "ODG_" + self.key.replace(".", "_").upper()

    @property
    def type(self) -> type:
        return type(self.default)


SETTINGS: tuple[Setting, ...] = (
    Setting("workspace.name", "", "Display name of the workspace; empty means the folder name."),
    Setting(
        "user.name",
        "",
        "Identity recorded as the actor of operations when neither --as nor ODG_USER is given "
        "(like git's user.name); empty means the operating-system user.",
    ),
    Setting(
        "catalog.type",
        "sql",
        "pyiceberg catalog type: sql (SQLite or PostgreSQL via SQLAlchemy), rest, hive, glue, ...",
    ),
    Setting(
        "catalog.uri",
        "sqlite:///{workspace}/catalog.db",
        "Catalog location: a SQLAlchemy URL for type sql, the endpoint for type rest.",
    ),
    Setting(
        "catalog.warehouse",
        "file://{workspace}/warehouse",
        "Where table data and metadata are written: a file:// folder or an s3:// bucket prefix.",
    ),
    Setting(
        "state.url",
        "sqlite:///{workspace}/state.db",
        "SQLAlchemy URL of the state database (ingest batches, and later decisions, audit, "
        "quality history). SQLite runs in WAL mode; postgresql+psycopg2://... works too.",
    ),
    Setting(
        "lakehouse.compaction_target_file_size_mb",
        512,
        "Target size of data files written by compaction, in MB on disk (the origin design: 512).",
    ),
    Setting(
        "lakehouse.compaction_min_input_files",
        2,
        "Compaction rewrites a partition only when it has at least this many small files.",
    ),
    Setting(
        "lakehouse.retention_keep_last",
        30,
        "Retention keeps at least this many of the most recent snapshots.",
    ),
    Setting(
        "lakehouse.retention_max_age_days",
        90,
        "Retention keeps every snapshot younger than this many days (tagged snapshots are always kept).",
    ),
    Setting(
        "lakehouse.orphan_min_age_hours",
        24,
        "Files no snapshot references are removed only when older than this, so that writes "
        "still in flight in another process are never touched.",
    ),
    Setting(
        "lakehouse.commit_retries",
        8,
        "How many times a write retries its commit when another writer committed first.",
    ),
    Setting(
        "duckdb.memory_limit",
        "",
        "DuckDB memory limit for queries (e.g. '4GB'); empty means DuckDB's default (80% of RAM).",
    ),
    Setting("duckdb.threads", 0, "DuckDB worker threads for queries; 0 means one per core."),
    Setting(
        "quality.gate_bronze",
        0.70,
        "Minimum quality score (0-1) of a Bronze table's check to pass its gate (promotion to Silver).",
    ),
    Setting("quality.gate_silver", 0.85, "Minimum quality score of a Silver table's check (promotion to Gold)."),
    Setting("quality.gate_gold", 0.95, "Minimum quality score of a Gold table's check (promotion to Platinum)."),
    Setting("quality.gate_platinum", 0.95, "Minimum quality score of a Platinum table's check."),
    Setting(
        "quality.dimension_weights",
        "",
        "Weights of the DAMA dimensions in the overall score, e.g. 'completeness=2,validity=1'; "
        "dimensions not named weigh 1; empty means equal weights.",
    ),
    Setting("quality.sample_rows", 5, "Failing rows kept per failed rule in a report (personal data masked)."),
    Setting(
        "quality.polars_max_file_mb",
        256.0,
        "Parquet files up to this size (MB on disk) are checked with polars, larger ones with DuckDB, "
        "which streams them with bounded memory (engine auto).",
    ),
    Setting(
        "governance.admins",
        "",
        "Comma-separated user names of the workspace admins: they change RACI assignments and policies, "
        "and may promote and read unmasked data.",
    ),
    Setting(
        "events.backend",
        "embedded",
        "Where events go besides the embedded log in the state database: embedded (nowhere else), "
        "nats (JetStream) or kafka. Messages are relayed from the log, so a broker outage loses nothing.",
    ),
    Setting(
        "events.url",
        "",
        "NATS server URL (nats://host:4222) or Kafka bootstrap servers (host:9092,host2:9092); "
        "empty means the backend's local default.",
    ),
    Setting(
        "events.stream",
        "ODG",
        "JetStream stream that holds the topics (subjects odg.>); created, or extended with odg.>, on first use.",
    ),
    Setting(
        "events.timeout_s",
        5.0,
        "Seconds a broker publish may take, acknowledgement included, before it fails with an error naming the URL.",
    ),
    Setting(
        "privacy.scan_sample_rows",
        2000,
        "Rows sampled (uniformly, without reading the whole table into memory) per PII scan; "
        "every row is read when the table is smaller.",
    ),
    Setting(
        "privacy.scan_max_text_chars",
        2000,
        "Characters of each value a PII scan reads (longer values, e.g. enormous text fields, are "
        "truncated so a scan takes bounded time).",
    ),
    Setting(
        "privacy.scan_min_confidence",
        0.5,
        "Lowest confidence (0-1) of a PII finding that a scan reports.",
    ),
    Setting(
        "privacy.masking_key_env",
        "ODG_MASKING_KEY",
        "Environment variable holding the masking key (hash and tokenize); the key itself is never stored "
        "in odg.toml, logged or put in an error.",
    ),
    Setting(
        "privacy.masking_key_file",
        "",
        "File holding the masking key when the environment variable is unset (a mounted secret, "
        "e.g. /run/secrets/odg_masking_key); empty means none.",
    ),
    Setting(
        "privacy.masking_methods",
        "",
        "Masking method per entity type over the defaults, e.g. 'EMAIL=partial:4,BR_CPF=tokenize'; "
        "methods: hash, redact, partial:N, tokenize, generalize[:WIDTH].",
    ),
    Setting(
        "privacy.mask_level",
        "Confidential",
        "Lowest classification level whose personal-data columns are masked on promotion and for readers "
        "without data.read_unmasked.",
    ),
    Setting(
        "privacy.mask_jurisdictions",
        "BR,EU,US,GLOBAL",
        "Jurisdictions whose tables are masked (a table with none counts as GLOBAL).",
    ),
    Setting(
        "privacy.dp_default_epsilon",
        1.0,
        "Differential-privacy budget (total epsilon) of each consumer on each table until an owner sets one "
        "(odg privacy budget --set); queries compose sequentially: their epsilons add up.",
    ),
    Setting(
        "privacy.dp_default_delta",
        1e-6,
        "Default delta budget of each consumer on each table (spent by gaussian queries; deltas add up).",
    ),
    Setting(
        "privacy.dp_gaussian_delta",
        1e-7,
        "Delta of one gaussian differential-privacy query when none is given.",
    ),
    Setting(
        "privacy.dp_confidence",
        0.95,
        "Confidence level (0-1) of the accuracy reported with each differentially private answer.",
    ),
    Setting(
        "compliance.sox_retention_days",
        2555,
        "Days financial records must stay recoverable for SOX section 802 (7 years); the SOX check asks "
        "lakehouse.retention_max_age_days to reach it, or period-end snapshots to be tagged.",
    ),
    Setting(
        "mlflow.tracking_uri",
        "sqlite:///{workspace}/mlflow.db",
        "MLflow tracking store the model registry logs runs to: SQLite in the workspace by default, or any "
        "MLflow server (http://host:5000, databricks ...).",
    ),
    Setting("mlflow.registry_uri", "", "MLflow model registry URI; empty means mlflow.tracking_uri."),
    Setting(
        "mlflow.artifact_location",
        "",
        "Where the experiment stores model artifacts; empty means {workspace}/mlartifacts for a local "
        "tracking store, the server's default otherwise.",
    ),
    Setting("mlflow.experiment", "odg-workbench", "MLflow experiment that model registrations are logged in."),
    Setting("lineage.default_depth", 5, "Hops an upstream/downstream lineage query walks when no depth is given."),
    Setting(
        "lineage.max_depth",
        50,
        "Largest depth a lineage query accepts (upstream, downstream, impact); deeper asks are refused.",
    ),
    Setting(
        "lineage.query_engine",
        "memory",
        "How lineage walks run: memory (adjacency cached in memory, refreshed from a version counter) "
        "or sql (recursive CTEs in the state database, nothing held in memory).",
    ),
    Setting(
        "openlineage.transport",
        "file",
        "Where the OpenLineage RunEvents of the workbench's runs go: file (JSON lines, openlineage.file), "
        "http (Marquez or any OpenLineage endpoint at openlineage.url), console (the log) or none.",
    ),
    Setting(
        "openlineage.file",
        "{workspace}/.odg/openlineage/events.jsonl",
        "The JSON-lines file the file transport appends one event a line to.",
    ),
    Setting(
        "openlineage.url",
        "",
        "Base URL of the OpenLineage HTTP endpoint, e.g. http://localhost:5000 for Marquez (transport http).",
    ),
    Setting("openlineage.endpoint", "api/v1/lineage", "Path of the lineage endpoint under openlineage.url."),
    Setting(
        "openlineage.api_key_env",
        "OPENLINEAGE_API_KEY",
        "Environment variable holding the endpoint's API key (sent as a Bearer token when set); the key "
        "itself is never stored in odg.toml.",
    ),
    Setting("openlineage.timeout_s", 5.0, "Seconds one HTTP delivery may take before it counts as failed."),
    Setting(
        "openlineage.namespace",
        "",
        "Namespace of the workbench's jobs and datasets in OpenLineage events; empty means odg://<workspace name>.",
    ),
    Setting(
        "openlineage.schema_dir",
        "",
        "Folder of the official OpenLineage JSON schema files (OpenLineage.json, facets/*.json) to validate "
        "events with; empty means the schema rebuilt from the installed openlineage-python.",
    ),
)

_BY_KEY: dict[str, Setting] = {s.key: s for s in SETTINGS}
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SECRET_HINT = re.compile(r"(secret|password|token|credential|key)", re.IGNORECASE)


def _coerce(setting: Setting, value: Any, origin: str) -> Any:
    kind = setting.type
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    if kind is int and isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    if kind is float and isinstance(value, (int, str)) and not isinstance(value, bool):
        try:
            return float(value)
        except ValueError:
            pass
    if kind is str and isinstance(value, (int, float)):
        return str(value)
    raise ConfigError(
        f"setting {setting.key} from {origin}: expected {kind.__name__}, found {value!r}",
        setting=setting.key,
        expected=kind.__name__,
        found=repr(value),
        origin=origin,
    )


class Config:
    """The configuration of one workspace folder."""

    def __init__(self, root: Path, data: Mapping[str, Any] | None = None) -> None:
        self.root = root
        self._data: dict[str, dict[str, Any]] = {}
        for section, values in (data or {}).items():
            if not isinstance(values, Mapping):
                raise ConfigError(
                    f"{self.path}: [{section}] must be a table of settings, found {values!r}",
                    path=str(self.path),
                    field=section,
                )
            self._data[section] = _flatten(values) if section == "catalog" else dict(values)
        self._validate()

    @property
    def path(self) -> Path:
        return self.root / CONFIG_FILE

    @classmethod
    def load(cls, root: Path) -> Config:
        path = root / CONFIG_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return cls(root)
        except OSError as exc:
            raise ConfigError(f"cannot read {path}: {exc.strerror}", path=str(path)) from exc
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            # tomllib's message ends with "(at line L, column C)"
            m = re.search(r"line (\d+), column (\d+)", str(exc))
            raise ConfigError(
                f"{path}: invalid TOML: {exc}",
                path=str(path),
                line=int(m.group(1)) if m else None,
                column=int(m.group(2)) if m else None,
            ) from exc
        return cls(root, data)

    def _validate(self) -> None:
        for section, values in self._data.items():
            for name, value in values.items():
                key = f"{section}.{name}"
                if section == "catalog":
                    if key in _BY_KEY:
                        _coerce(_BY_KEY[key], value, str(self.path))
                    elif not isinstance(value, (str, int, float, bool)):
                        raise ConfigError(
                            f"{self.path}: catalog property {name} must be a string, found {value!r}",
                            path=str(self.path),
                            field=key,
                        )
                    continue
                if key not in _BY_KEY:
                    raise ConfigError(
                        f"{self.path}: unknown setting {key}" + _did_you_mean(key, _BY_KEY),
                        path=str(self.path),
                        field=key,
                    )
                _coerce(_BY_KEY[key], value, str(self.path))

    # -- reading -------------------------------------------------------------------------

    def raw(self, key: str) -> tuple[Any, str]:
        """The value before substitution, and where it came from (env, file or default)."""
        setting = _BY_KEY.get(key)
        if setting is None:
            raise ConfigError(f"unknown setting {key}" + _did_you_mean(key, _BY_KEY), field=key)
        if setting.env in os.environ:
            return _coerce(setting, os.environ[setting.env], f"${setting.env}"), "env"
        section, name = key.split(".", 1)
        if name in self._data.get(section, {}):
            return _coerce(setting, self._data[section][name], str(self.path)), "file"
        return setting.default, "default"

    def get(self, key: str) -> Any:
        """The effective value of ``key`` with ``{workspace}`` and ``${ENV}`` substituted."""
        value, _ = self.raw(key)
        return self.expand(value) if isinstance(value, str) else value

    def expand(self, value: str) -> str:
        value = value.replace("{workspace}", str(self.root))

        def env(m: re.Match[str]) -> str:
            name = m.group(1)
            if name not in os.environ:
                raise ConfigError(
                    f"configuration refers to ${{{name}}} but the environment variable {name} is not set",
                    field=name,
                )
            return os.environ[name]

        return _ENV_REF.sub(env, value)

    def catalog_properties(self) -> dict[str, str]:
        """Every ``[catalog]`` property, expanded, as pyiceberg expects them (strings)."""
        props: dict[str, str] = {}
        for setting in SETTINGS:
            if setting.section == "catalog":
                props[setting.name] = str(self.get(setting.key))
        for name, value in self._data.get("catalog", {}).items():
            if f"catalog.{name}" in _BY_KEY:
                continue
            props[name] = (
                self.expand(value)
                if isinstance(value, str)
                else str(value).lower()
                if isinstance(value, bool)
                else str(value)
            )
        return props

    def items(self) -> Iterator[tuple[str, Any, str]]:
        """``(key, value, origin)`` for every declared setting and every extra catalog property.

        Values that look like secrets (keys containing password, token, secret, key,
        credential) are shown masked.
        """
        for setting in SETTINGS:
            value, origin = self.raw(setting.key)
            yield setting.key, value, origin
        for name, value in self._data.get("catalog", {}).items():
            if f"catalog.{name}" not in _BY_KEY:
                shown = "***" if _SECRET_HINT.search(name) and "${" not in str(value) else value
                yield f"catalog.{name}", shown, "file"

    # -- writing -------------------------------------------------------------------------

    def set(self, key: str, value: Any) -> None:
        section, _, name = key.partition(".")
        if not name:
            raise ConfigError(f"setting names are section.key, found {key!r}", field=key)
        if key in _BY_KEY:
            value = _coerce(_BY_KEY[key], value, "the command line")
        elif section != "catalog":
            raise ConfigError(f"unknown setting {key}" + _did_you_mean(key, _BY_KEY), field=key)
        self._data.setdefault(section, {})[name] = value

    def unset(self, key: str) -> None:
        section, _, name = key.partition(".")
        self._data.get(section, {}).pop(name, None)

    def save(self) -> None:
        """Write ``odg.toml`` atomically (a temporary file renamed over the old one)."""
        import tomli_w

        body = "# OpenDataGov Workbench workspace configuration. See docs/configuration.md.\n"
        body += tomli_w.dumps({k: v for k, v in self._data.items() if v})
        tmp = self.path.with_suffix(".toml.tmp")
        tmp.write_text(body, encoding="utf-8")
        os.replace(tmp, self.path)


def _flatten(values: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"s3": {"endpoint": x}}`` (TOML's dotted keys) -> ``{"s3.endpoint": x}``."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _did_you_mean(key: str, known: Mapping[str, Any]) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(known), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(close)}?)" if close else f" (known: {', '.join(sorted(known))})"
