"""Model cards and the model registry: MLflow for the models, the lineage graph for their data.

A :class:`ModelCard` says what a model is for and what it was made from: name and
version, intended use, the training datasets pinned to Iceberg snapshots, the training
environment (captured automatically: Python, platform, library versions, CUDA when
present), metrics and parameters, the parent model of a retraining chain, the EU AI Act
risk level, limitations and owner::

    card = ModelCard(
        name="churn_predictor",
        intended_use="rank customers by churn risk for retention offers",
        training_datasets=["silver.customers"],     # pinned to the current snapshot
        metrics={"accuracy": 0.92},
        owner="ana",
    )
    wb.models.register(card, model)                 # a fitted scikit-learn model, or None

:meth:`ModelRegistry.register` validates the card (the training tables must exist, a
snapshot given as a tag or time is resolved to its id), then

1. logs an MLflow run in the experiment ``mlflow.experiment`` with the parameters,
   metrics, ``odg.*`` tags and the card as ``model_card.json`` (and the model through its
   MLflow flavor, when given) and registers it as a new version of the registered model;
   MLflow runs on SQLite in the workspace (``mlflow.db``, artifacts under ``mlartifacts/``)
   unless ``mlflow.tracking_uri`` names a server;
2. keeps the card in the state database (``model_cards``), so listing, comparing and the
   compliance checks read cards without importing MLflow (3 s);
3. adds the model to the lineage graph with a ``TRAINED_ON`` edge to each training
   dataset at its snapshot (``wb.lineage``);
4. publishes ``mlflow.model.registered`` (topic ``odg.mlflow.model.registered``).

The risk level is the one the card declares (``unacceptable``, ``high``, ``limited``,
``minimal``), else the EU AI Act classifier's reading of the intended use
(:func:`odg_workbench.compliance.ai_risk.classify_ai_use_case`); both are kept
(``risk_assessment``). A model whose level is ``unacceptable`` (Art. 5 prohibited
practice) is refused.

Errors::

    OdgError
    └── ModelError(ValueError)              a malformed card, an unknown flavor, MLflow refusing
        └── ModelNotFoundError(LookupError) no such model or version (suggests close names)
"""

from __future__ import annotations

import builtins
import contextlib
import difflib
import importlib
import json
import math
import os
import platform
import re
import sys
import tempfile
import threading
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from odg_workbench.errors import OdgError, TableNotFoundError

if TYPE_CHECKING:
    import sqlalchemy as sa
    from mlflow import MlflowClient

    from odg_workbench.compliance.facts import ModelFacts
    from odg_workbench.workspace import Workbench

__all__ = [
    "RISK_LEVELS",
    "ModelCard",
    "ModelError",
    "ModelNotFoundError",
    "ModelRegistry",
    "capture_environment",
    "model_facts",
]

#: EU AI Act risk tiers, lowest first.
RISK_LEVELS = ("minimal", "limited", "high", "unacceptable")

#: The MLflow experiment's tag prefix and the card's artifact name.
CARD_ARTIFACT = "model_card.json"

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")

# Python package of a model's class -> (MLflow flavor, distribution to pin in the model's requirements).
_FLAVORS: dict[str, tuple[str, str]] = {
    "sklearn": ("sklearn", "scikit-learn"),
    "xgboost": ("xgboost", "xgboost"),
    "lightgbm": ("lightgbm", "lightgbm"),
    "catboost": ("catboost", "catboost"),
    "torch": ("pytorch", "torch"),
    "keras": ("keras", "keras"),
    "tensorflow": ("tensorflow", "tensorflow"),
    "statsmodels": ("statsmodels", "statsmodels"),
    "prophet": ("prophet", "prophet"),
}

# Libraries whose versions describe a training environment (those installed are recorded).
_ENV_PACKAGES = (
    "numpy",
    "pandas",
    "polars",
    "pyarrow",
    "scipy",
    "scikit-learn",
    "xgboost",
    "lightgbm",
    "catboost",
    "torch",
    "tensorflow",
    "keras",
    "statsmodels",
    "mlflow",
    "duckdb",
    "pyiceberg",
    "odg-workbench",
)

_MLFLOW_LOCK = threading.Lock()


class ModelError(OdgError, ValueError):
    """A model card that is malformed, a model that cannot be logged, a registration MLflow refused."""


class ModelNotFoundError(ModelError, LookupError):
    """No registered model (or version) of that name."""


# -- the card ------------------------------------------------------------------------------


@dataclass
class ModelCard:
    """What a model is for and what it was made from (see the module docs).

    ``training_snapshots`` maps a training dataset to a snapshot id, tag or time; a
    dataset without one is pinned to its current snapshot when the model is registered.
    ``parent_model`` is ``"name:version"`` of the model this one retrains.
    ``training_environment`` is captured at registration; values given here win (for a
    model trained elsewhere). ``version`` is given by the registry (MLflow's next
    version); a card that names one must match it.
    """

    name: str
    version: int | None = None
    intended_use: str = ""
    training_datasets: list[str] = field(default_factory=list)
    training_snapshots: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    parent_model: str | None = None
    risk_level: str | None = None
    limitations: list[str] = field(default_factory=list)
    owner: str = ""
    description: str = ""
    framework: str = ""
    human_oversight: str = ""
    risk_management: str = ""
    monitoring: str = ""
    transparency_notice: str = ""
    training_environment: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # Filled by the registry.
    risk_assessment: dict[str, Any] | None = None
    mlflow_run_id: str | None = None
    model_uri: str | None = None
    registered_at: str | None = None
    registered_by: str | None = None

    # -- conversions -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "the model card") -> ModelCard:
        """A card from a mapping (a YAML or JSON file's content); unknown fields are errors."""
        if not isinstance(data, Mapping):
            raise ModelError(
                f"{source}: a model card is a mapping of fields, found {type(data).__name__}",
                path=source,
                found=type(data).__name__,
            )
        known = [f.name for f in fields(cls)]
        for key in data:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                raise ModelError(
                    f"{source}: unknown field {key!r}" + (f" (did you mean {close[0]}?)" if close else ""),
                    path=source,
                    field=str(key),
                    expected=known,
                )
        if "name" not in data:
            raise ModelError(f"{source}: the field 'name' is required", path=source, field="name")
        values = dict(data)
        if isinstance(values.get("limitations"), str):
            values["limitations"] = [values["limitations"]]
        if isinstance(values.get("training_datasets"), str):
            values["training_datasets"] = [values["training_datasets"]]
        card = cls(**values)
        card.validate(source=source)
        return card

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> ModelCard:
        """A card from a YAML or JSON file."""
        import yaml

        p = Path(path).expanduser()
        try:
            text = p.read_text(encoding="utf-8")
        except OSError as exc:
            raise ModelError(f"cannot read model card {p}: {exc.strerror}", path=str(p)) from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            raise ModelError(
                f"{p}" + (f":{line}" if line else "") + f": not valid YAML/JSON: {getattr(exc, 'problem', exc)}",
                path=str(p),
                line=line,
            ) from exc
        return cls.from_dict(data, source=str(p))

    # -- validation ------------------------------------------------------------------------

    def validate(self, *, source: str = "the model card") -> None:
        """Check field types and values; raises :class:`ModelError` naming the field."""

        def fail(fld: str, message: str, found: Any = None, expected: Any = None) -> None:
            raise ModelError(f"{source}: {fld}: {message}", path=source, field=fld, found=found, expected=expected)

        if not isinstance(self.name, str) or not _NAME.match(self.name):
            fail(
                "name",
                f"{self.name!r} is not a model name (letters, digits, '_', '.', '-'; at most 128)",
                repr(self.name),
            )
        if self.version is not None and (
            isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1
        ):
            fail("version", f"must be a positive integer, found {self.version!r}", repr(self.version))
        for fld in (
            "intended_use",
            "owner",
            "description",
            "framework",
            "human_oversight",
            "risk_management",
            "monitoring",
            "transparency_notice",
        ):
            if not isinstance(getattr(self, fld), str):
                fail(fld, f"must be text, found {type(getattr(self, fld)).__name__}")
        if not isinstance(self.training_datasets, list) or not all(
            isinstance(d, str) and d.strip() for d in self.training_datasets
        ):
            fail("training_datasets", "must be a list of table names (layer.name)", repr(self.training_datasets))
        if len(set(self.training_datasets)) != len(self.training_datasets):
            fail("training_datasets", "lists a table twice", repr(self.training_datasets))
        if not isinstance(self.training_snapshots, dict):
            fail("training_snapshots", "must map a training dataset to a snapshot id, tag or time")
        for ds in self.training_snapshots:
            if ds not in self.training_datasets:
                fail(
                    "training_snapshots",
                    f"{ds!r} is not one of the training datasets ({', '.join(self.training_datasets) or 'none'})",
                    ds,
                    self.training_datasets,
                )
        if not isinstance(self.metrics, dict):
            fail("metrics", "must map a metric name to a number")
        for metric, value in self.metrics.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)):
                fail(f"metrics.{metric}", f"must be a finite number, found {value!r}", repr(value))
        if not isinstance(self.parameters, dict):
            fail("parameters", "must map a parameter name to a value")
        if self.risk_level is not None and str(self.risk_level).lower() not in RISK_LEVELS:
            fail(
                "risk_level",
                f"{self.risk_level!r} is not an EU AI Act risk level ({', '.join(RISK_LEVELS)})",
                self.risk_level,
                list(RISK_LEVELS),
            )
        if not isinstance(self.limitations, list) or not all(isinstance(x, str) for x in self.limitations):
            fail("limitations", "must be a list of sentences (or one sentence)", repr(self.limitations))
        if self.parent_model is not None:
            _parse_ref(self.parent_model, source=source, fld="parent_model")
        if not isinstance(self.tags, dict):
            fail("tags", "must map a tag name to text")

    @property
    def ref(self) -> str:
        """``name:version``."""
        return f"{self.name}:{self.version}"


def _parse_ref(ref: str, *, source: str = "", fld: str = "model") -> tuple[str, int]:
    """``"name:3"`` or ``"name/3"`` -> ``("name", 3)``."""
    text = str(ref).strip()
    m = re.match(r"^(.+?)[:/]v?(\d+)$", text)
    if not m or not _NAME.match(m.group(1)):
        raise ModelError(
            f"{source + ': ' if source else ''}{fld}: {ref!r} is not a model version (name:version, e.g. churn:2)",
            field=fld,
            found=str(ref),
            expected="name:version",
        )
    return m.group(1), int(m.group(2))


# -- the training environment ----------------------------------------------------------------


def capture_environment(extra_packages: Iterable[str] = ()) -> dict[str, Any]:
    """Python, platform, the installed versions of the usual ML libraries, and CUDA when present.

    Cheap: package versions come from installed metadata (nothing is imported), CUDA from a
    framework already imported (torch, cupy) or the NVIDIA driver's files.
    """
    from importlib.metadata import PackageNotFoundError, version

    packages: dict[str, str] = {}
    for dist in dict.fromkeys([*_ENV_PACKAGES, *extra_packages]):
        try:
            packages[dist] = version(dist)
        except PackageNotFoundError:
            continue
    return {
        "python_version": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "packages": packages,
        "cuda": _cuda(),
    }


def _cuda() -> dict[str, Any]:
    """CUDA as seen without importing a GPU framework: ``{"available", "version", "driver", "source"}``."""
    info: dict[str, Any] = {"available": False, "version": None, "driver": None, "source": None}
    torch = sys.modules.get("torch")
    if torch is not None:
        with contextlib.suppress(Exception):
            info.update(
                available=bool(torch.cuda.is_available()),
                version=getattr(torch.version, "cuda", None),
                source="torch",
            )
    cupy = sys.modules.get("cupy")
    if info["source"] is None and cupy is not None:
        try:
            available = bool(cupy.cuda.is_available())
            runtime = cupy.cuda.runtime.runtimeGetVersion() if available else None
            info.update(
                available=available,
                version=f"{runtime // 1000}.{(runtime % 1000) // 10}" if runtime else None,
                source="cupy",
            )
        except Exception:
            pass
    driver = Path("/proc/driver/nvidia/version")
    try:
        text = driver.read_text(encoding="utf-8", errors="replace")
    except OSError:
        text = ""
    m = re.search(r"Kernel Module\s+(?:for \S+\s+)?([0-9][0-9.]+)", text)
    if m:
        info["driver"] = m.group(1)
        if info["source"] is None:
            info.update(available=True, source="nvidia-driver")
    if info["version"] is None:
        info["version"] = os.environ.get("CUDA_VERSION") or _cuda_toolkit_version()
    return info


def _cuda_toolkit_version() -> str | None:
    for path in (Path("/usr/local/cuda/version.json"), Path("/usr/local/cuda/version.txt")):
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        if path.suffix == ".json":
            try:
                return str(json.loads(text)["cuda"]["version"])
            except (ValueError, KeyError, TypeError):
                continue
        m = re.search(r"([0-9]+\.[0-9]+(?:\.[0-9]+)?)", text)
        if m:
            return m.group(1)
    return None


# -- state ----------------------------------------------------------------------------------


def _table() -> sa.Table:
    import sqlalchemy as sa

    from odg_workbench.state import metadata

    md = metadata.get()
    if "model_cards" in md.tables:
        return md.tables["model_cards"]
    return sa.Table(
        "model_cards",
        md,
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("card", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("model_uri", sa.Text),
        sa.Column("tracking_uri", sa.Text, nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(255), nullable=False),
    )


# -- the registry ------------------------------------------------------------------------------


class ModelRegistry:
    """Model cards registered with MLflow and linked to their training data. Reach it as ``wb.models``."""

    def __init__(self, workbench: Workbench) -> None:
        self._wb = workbench
        self._client: MlflowClient | None = None

    # -- MLflow ------------------------------------------------------------------------------

    @property
    def tracking_uri(self) -> str:
        """``mlflow.tracking_uri``: SQLite in the workspace by default."""
        return str(self._wb.config.get("mlflow.tracking_uri"))

    @property
    def registry_uri(self) -> str:
        """``mlflow.registry_uri``, else the tracking URI."""
        return str(self._wb.config.get("mlflow.registry_uri") or "") or self.tracking_uri

    def _local(self) -> bool:
        return self.tracking_uri.startswith(("sqlite:", "file:", "/")) or "://" not in self.tracking_uri

    def client(self) -> MlflowClient:
        """An ``MlflowClient`` bound to this workspace's tracking and registry URIs (no global MLflow state)."""
        if self._client is None:
            _quiet_mlflow()
            from mlflow import MlflowClient

            if self.tracking_uri.startswith("sqlite:///"):
                Path(self.tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            self._client = MlflowClient(tracking_uri=self.tracking_uri, registry_uri=self.registry_uri)
        return self._client

    def _experiment_id(self) -> str:
        client = self.client()
        name = str(self._wb.config.get("mlflow.experiment"))
        exp = client.get_experiment_by_name(name)
        if exp is not None:
            return str(exp.experiment_id)
        location = str(self._wb.config.get("mlflow.artifact_location") or "")
        if not location and self._local():
            location = (self._wb.root / "mlartifacts").as_uri()
        try:
            return str(client.create_experiment(name, artifact_location=location or None))
        except Exception:  # created meanwhile by another process
            exp = client.get_experiment_by_name(name)
            if exp is None:
                raise
            return str(exp.experiment_id)

    # -- registering ---------------------------------------------------------------------------

    def register(
        self,
        card: ModelCard | Mapping[str, Any] | str | os.PathLike[str],
        model: Any = None,
        *,
        flavor: str | None = None,
        pip_requirements: list[str] | None = None,
        model_dir: str | os.PathLike[str] | None = None,
    ) -> ModelCard:
        """Register ``card`` (and ``model``, when given) as the next version; see the module docs.

        ``card`` is a :class:`ModelCard`, a mapping of its fields or a YAML/JSON file.
        ``flavor`` is the MLflow flavor to log ``model`` with (``sklearn``, ``xgboost``,
        ``pytorch``, ``pyfunc`` ...; found from the model's package by default).
        ``pip_requirements`` default to the flavor's library at its installed version,
        which keeps logging fast. ``model_dir`` registers a model saved already in MLflow's
        format (a folder with an ``MLmodel`` file) instead of ``model``. Returns the card as registered (version, snapshots,
        environment, risk level, MLflow run and model URI filled in).
        """
        wb = self._wb
        card = _as_card(card)
        card.validate()
        card = ModelCard.from_dict(card.to_dict())  # a copy: the caller's card is not changed
        card.risk_level = card.risk_level.lower() if card.risk_level else None
        card.training_snapshots = self._pin_snapshots(card)
        if card.parent_model is not None:
            pname, pversion = _parse_ref(card.parent_model, fld="parent_model")
            self.get(pname, pversion)
            card.parent_model = f"{pname}:{pversion}"
        self._assess_risk(card)
        if model is not None and model_dir is not None:
            raise ModelError("give the model object or a saved model folder (model_dir), not both", field="model_dir")
        saved = _saved_model(model_dir) if model_dir is not None else None
        flavor_name, dist = _flavor(model, flavor) if model is not None else (saved[1] if saved else None, None)
        card.framework = card.framework or (flavor_name or "")
        card.training_environment = {
            **capture_environment([dist] if dist else []),
            **card.training_environment,
        }
        card.registered_by = wb.user
        card.registered_at = datetime.now(UTC).isoformat()
        if model is not None and pip_requirements is None and dist:
            installed = card.training_environment.get("packages", {}).get(dist)
            pip_requirements = [f"{dist}=={installed}" if installed else dist]

        with _MLFLOW_LOCK:
            version, run_id, uri = self._log(card, model, flavor_name, pip_requirements, saved[0] if saved else None)
        card.version, card.mlflow_run_id, card.model_uri = version, run_id, uri
        try:
            self._store(card)
        except Exception:
            self._undo(card.name, version, run_id)
            raise
        try:
            self._link(card)
        except Exception:
            self._unstore(card.name, version)
            self._undo(card.name, version, run_id)
            raise
        wb.publish(
            "mlflow.model.registered",
            f"model:{card.name}",
            model=card.name,
            version=card.version,
            run_id=run_id,
            model_uri=uri,
            framework=card.framework,
            risk_level=card.risk_level,
            training_data=[{"dataset": d, "snapshot_id": card.training_snapshots[d]} for d in card.training_datasets],
            parent_model=card.parent_model,
            owner=card.owner,
        )
        return card

    def _pin_snapshots(self, card: ModelCard) -> dict[str, Any]:
        """Every training dataset exists; its snapshot (given or current) as an id."""
        from odg_workbench.lakehouse.names import TableName

        wb = self._wb
        pinned: dict[str, Any] = {}
        known: list[str] | None = None
        renamed: dict[str, str] = {}
        for ds in card.training_datasets:
            name = str(TableName.parse(ds))
            renamed[ds] = name
            if not wb.lakehouse.exists(name):
                known = known if known is not None else [str(n) for n in wb.lakehouse.table_names()]
                close = difflib.get_close_matches(name, known, n=3)
                raise TableNotFoundError(
                    f"training dataset {name} is not a table of the workspace {wb.root}"
                    + (f" (did you mean {', '.join(close)}?)" if close else "")
                    + (f"; tables: {', '.join(known[:20])}" if known and not close else ""),
                    table=name,
                    field="training_datasets",
                    expected=close or known[:20],
                )
            snap = wb.table(name).snapshot(card.training_snapshots.get(ds))
            pinned[name] = snap.snapshot_id
        card.training_datasets = [renamed[d] for d in card.training_datasets]
        return pinned

    def _assess_risk(self, card: ModelCard) -> None:
        assessment: dict[str, Any] | None = None
        if card.intended_use.strip():
            try:
                from odg_workbench.compliance.ai_risk import classify_ai_use_case
            except ImportError:  # the compliance capability is not installed
                classify_ai_use_case = None  # type: ignore[assignment]
            if classify_ai_use_case is not None:
                assessment = classify_ai_use_case(card.intended_use).to_dict()
        declared = card.risk_level
        level = declared or (assessment or {}).get("level")
        card.risk_assessment = {
            "level": level,
            "declared": declared,
            "classifier": assessment,
            "source": "declared" if declared else ("classifier" if assessment else None),
        }
        if declared and assessment and RISK_LEVELS.index(assessment["level"]) > RISK_LEVELS.index(declared):
            card.risk_assessment["warning"] = (
                f"the intended use reads as {assessment['level']} risk ({', '.join(assessment['articles'])}), "
                f"above the declared {declared}"
            )
        card.risk_level = level
        if level == "unacceptable":
            articles = ", ".join((assessment or {}).get("articles") or ["Art. 5"])
            reasons = "; ".join((assessment or {}).get("reasons") or ["declared unacceptable"])
            raise ModelError(
                f"model {card.name} is refused: its use is a prohibited practice under the EU AI Act ({articles}): "
                f"{reasons}",
                field="risk_level",
                found=level,
            )

    def _log(
        self,
        card: ModelCard,
        model: Any,
        flavor: str | None,
        pip_requirements: list[str] | None,
        saved: Path | None = None,
    ) -> tuple[int, str, str]:
        """The MLflow run and model version; on failure nothing is left registered."""
        client = self.client()
        try:
            experiment = self._experiment_id()
            existing = self._mlflow_versions(card.name)
        except Exception as exc:
            raise ModelError(
                f"model {card.name}: MLflow at {_redact(self.tracking_uri)} cannot be used "
                f"({type(exc).__name__}: {_first_line(exc)}); check the setting mlflow.tracking_uri",
                setting="mlflow.tracking_uri",
                tracking_uri=_redact(self.tracking_uri),
            ) from exc
        expected = max(existing, default=0) + 1
        if card.version is not None and card.version != expected:
            raise ModelError(
                f"model {card.name}: the card asks for version {card.version}, but the next version is {expected} "
                "(versions are given by the registry: leave version out)",
                field="version",
                found=card.version,
                expected=expected,
            )
        tags = {
            "odg.model": card.name,
            "odg.owner": card.owner,
            "odg.risk_level": card.risk_level or "",
            "odg.training_datasets": ",".join(card.training_datasets),
            "odg.training_snapshots": json.dumps(card.training_snapshots),
            "odg.parent_model": card.parent_model or "",
            "odg.intended_use": card.intended_use[:5000],
            "odg.workspace": str(self._wb.root),
            "mlflow.user": self._wb.user,
            "mlflow.runName": f"{card.name}-registration",
            **{f"odg.tag.{k}": str(v) for k, v in card.tags.items()},
        }
        run = client.create_run(experiment, tags={k: v for k, v in tags.items() if v != ""})
        run_id = run.info.run_id
        version: int | None = None
        try:
            from mlflow.entities import Metric, Param

            now_ms = int(datetime.now(UTC).timestamp() * 1000)
            client.log_batch(
                run_id,
                metrics=[Metric(k, float(v), now_ms, 0) for k, v in card.metrics.items()],
                params=[Param(str(k), _param(v)) for k, v in card.parameters.items()],
            )
            source_path = ""
            if model is not None:
                assert flavor is not None
                with tempfile.TemporaryDirectory(prefix="odg-model-") as tmp:
                    _save_model(model, flavor, Path(tmp) / "model", pip_requirements)
                    client.log_artifacts(run_id, str(Path(tmp) / "model"), "model")
                source_path = "model"
            elif saved is not None:
                client.log_artifacts(run_id, str(saved), "model")
                source_path = "model"
            card_copy = ModelCard.from_dict(card.to_dict())
            card_copy.version, card_copy.mlflow_run_id = expected, run_id
            with tempfile.TemporaryDirectory(prefix="odg-card-") as tmp:
                path = Path(tmp) / CARD_ARTIFACT
                path.write_text(json.dumps(card_copy.to_dict(), indent=2, default=str), encoding="utf-8")
                client.log_artifact(run_id, str(path), "card")
            source = client.get_run(run_id).info.artifact_uri.rstrip("/") + "/" + (source_path or "card")
            try:
                client.create_registered_model(
                    card.name, tags={"odg.owner": card.owner} if card.owner else None, description=card.description
                )
            except Exception as exc:
                if "already exists" not in str(exc).lower() and "RESOURCE_ALREADY_EXISTS" not in str(exc):
                    raise
            mv = client.create_model_version(
                card.name,
                source,
                run_id=run_id,
                tags={k: v for k, v in tags.items() if k.startswith("odg.") and v != ""},
                description=card.intended_use[:5000] or None,
            )
            version = int(mv.version)
            if card.version is not None and version != card.version:
                raise ModelError(
                    f"model {card.name}: MLflow gave version {version}, not the {card.version} the card asks for "
                    "(another registration ran at the same time); nothing was registered",
                    field="version",
                    found=version,
                    expected=card.version,
                )
            client.set_terminated(run_id, "FINISHED")
            return version, run_id, f"models:/{card.name}/{version}"
        except Exception as exc:
            self._undo(card.name, version, run_id)
            if isinstance(exc, OdgError):
                raise
            raise ModelError(
                f"model {card.name}: MLflow registration failed at {_redact(self.tracking_uri)}: "
                f"{type(exc).__name__}: {_first_line(exc)}; nothing was registered",
                tracking_uri=_redact(self.tracking_uri),
            ) from exc

    def _undo(self, name: str, version: int | None, run_id: str) -> None:
        client = self.client()
        if version is not None:
            with contextlib.suppress(Exception):
                client.delete_model_version(name, str(version))
        try:
            client.set_terminated(run_id, "FAILED")
            client.delete_run(run_id)
        except Exception:
            pass

    def _mlflow_versions(self, name: str) -> list[int]:
        found = self.client().search_model_versions(f"name = '{name}'")
        return [int(v.version) for v in found]

    def _store(self, card: ModelCard) -> None:
        tbl = _table()
        state = self._wb.state
        state.ensure(tbl)
        assert card.version is not None
        with state.begin() as conn:
            conn.execute(
                tbl.insert().values(
                    name=card.name,
                    version=card.version,
                    card=json.dumps(card.to_dict(), default=str),
                    run_id=card.mlflow_run_id,
                    model_uri=card.model_uri,
                    tracking_uri=_redact(self.tracking_uri),
                    registered_at=datetime.fromisoformat(card.registered_at or datetime.now(UTC).isoformat()),
                    registered_by=card.registered_by or self._wb.user,
                )
            )

    def _unstore(self, name: str, version: int) -> None:
        tbl = _table()
        with self._wb.state.begin() as conn:
            conn.execute(tbl.delete().where((tbl.c.name == name) & (tbl.c.version == version)))

    def _link(self, card: ModelCard) -> None:
        """The model vertex and its TRAINED_ON edges in the lineage graph."""
        wb = self._wb
        lineage = getattr(wb, "lineage", None)
        if lineage is None:  # a workbench without the lineage graph
            return
        from odg_workbench.lineage import graph

        mid = graph.model_id(card.name)
        lineage.add_vertex(
            "Model",
            mid,
            name=card.name,
            version=card.version,
            framework=card.framework,
            risk_level=card.risk_level,
            owner=card.owner,
            model_uri=card.model_uri,
            parent_model=card.parent_model,
        )
        for ds in card.training_datasets:
            lineage.add_edge(
                mid,
                graph.dataset_id(ds),
                "TRAINED_ON",
                dst_snapshot=card.training_snapshots[ds],
                run_id=card.mlflow_run_id,
                model_version=card.version,
            )

    # -- reading -------------------------------------------------------------------------------

    def _rows(self, name: str | None = None, version: int | None = None) -> list[dict[str, Any]]:
        import sqlalchemy as sa

        tbl = _table()
        state = self._wb.state
        state.ensure(tbl)
        query = sa.select(tbl.c.card).order_by(tbl.c.name, tbl.c.version)
        if name is not None:
            query = query.where(tbl.c.name == name)
        if version is not None:
            query = query.where(tbl.c.version == version)
        with state.begin() as conn:
            return [json.loads(r[0]) for r in conn.execute(query).all()]

    def get(self, name: str, version: int | str | None = None) -> ModelCard:
        """The card of ``name`` at ``version`` (default: the latest version)."""
        v = _version(name, version)
        rows = self._rows(name)
        if not rows:
            known = sorted({c["name"] for c in self._rows()})
            close = difflib.get_close_matches(name, known, n=3)
            raise ModelNotFoundError(
                f"no registered model {name!r}"
                + (f" (did you mean {', '.join(close)}?)" if close else "")
                + (f"; models: {', '.join(known[:20])}" if known and not close else "")
                + ("" if known else "; no model is registered in this workspace (odg model register)"),
                model=name,
                expected=close or known[:20],
            )
        if v is None:
            return _card(rows[-1])
        for row in rows:
            if row["version"] == v:
                return _card(row)
        versions = [r["version"] for r in rows]
        raise ModelNotFoundError(
            f"model {name!r} has no version {v}; versions: {', '.join(map(str, versions))}",
            model=name,
            found=v,
            expected=versions,
        )

    def list(self, name: str | None = None, *, all_versions: bool = False) -> list[ModelCard]:
        """Registered models: the latest version of each (every version with ``all_versions``)."""
        cards = [_card(r) for r in self._rows(name)]
        if all_versions:
            return cards
        latest: dict[str, ModelCard] = {}
        for c in cards:
            latest[c.name] = c
        return list(latest.values())

    def versions(self, name: str) -> builtins.list[ModelCard]:
        """Every version of ``name``, oldest first."""
        self.get(name)
        return self.list(name, all_versions=True)

    def load(self, name: str, version: int | str | None = None) -> Any:
        """The model of a registered version, loaded through MLflow's pyfunc flavor."""
        card = self.get(name, version)
        if card.model_uri is None or not card.framework:
            raise ModelError(f"model {card.ref} was registered without a model (card only)", model=card.ref)
        import mlflow.artifacts
        import mlflow.pyfunc

        client = self.client()
        mv = client.get_model_version(card.name, str(card.version))
        if str(mv.source).startswith("file://"):
            return mlflow.pyfunc.load_model(mv.source)
        with tempfile.TemporaryDirectory(prefix="odg-load-") as tmp:
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=mv.source, dst_path=tmp, tracking_uri=self.tracking_uri
            )
            return mlflow.pyfunc.load_model(local)

    # -- comparing -----------------------------------------------------------------------------

    def compare(self, name: str, v1: int | str, v2: int | str) -> dict[str, Any]:
        """Performance, parameters, training data and environment of two versions.

        ``metrics_diff`` has ``{"from", "to", "delta", "percent_change"}`` per metric
        (``percent_change`` relative to ``from``; ``None`` when a side lacks the metric or
        ``from`` is 0); ``training_data_changed`` is true when the training datasets or
        their snapshots differ.
        """
        a, b = self.get(name, v1), self.get(name, v2)
        metrics: dict[str, dict[str, Any]] = {}
        for m in list(dict.fromkeys([*a.metrics, *b.metrics])):
            x, y = a.metrics.get(m), b.metrics.get(m)
            delta = round(float(y) - float(x), 12) if x is not None and y is not None else None
            pct = round(delta / abs(float(x)) * 100, 2) if delta is not None and x else None
            metrics[m] = {"from": x, "to": y, "delta": delta, "percent_change": pct}
        params = {
            p: {"from": a.parameters.get(p), "to": b.parameters.get(p)}
            for p in dict.fromkeys([*a.parameters, *b.parameters])
            if a.parameters.get(p) != b.parameters.get(p)
        }
        da, db = a.training_snapshots, b.training_snapshots
        snapshots = {d: {"from": da[d], "to": db[d]} for d in da if d in db and da[d] != db[d]}
        env_a, env_b = _flat(a.training_environment), _flat(b.training_environment)
        environment = {
            k: {"from": env_a.get(k), "to": env_b.get(k)}
            for k in dict.fromkeys([*env_a, *env_b])
            if env_a.get(k) != env_b.get(k)
        }
        return {
            "model": name,
            "from_version": a.version,
            "to_version": b.version,
            "metrics_diff": metrics,
            "params_diff": params,
            "training_data_changed": da != db,
            "training_data": {
                "from": da,
                "to": db,
                "added": [d for d in db if d not in da],
                "removed": [d for d in da if d not in db],
                "snapshot_changed": snapshots,
            },
            "environment_diff": environment,
            "risk_level": {"from": a.risk_level, "to": b.risk_level},
            "lineage": {"from_parent": a.parent_model, "to_parent": b.parent_model},
        }


# -- helpers -----------------------------------------------------------------------------------


def _as_card(card: ModelCard | Mapping[str, Any] | str | os.PathLike[str]) -> ModelCard:
    if isinstance(card, ModelCard):
        return card
    if isinstance(card, Mapping):
        return ModelCard.from_dict(card)
    if isinstance(card, (str, os.PathLike)):
        return ModelCard.from_file(card)
    raise ModelError(
        f"a model card is a ModelCard, a mapping or a YAML/JSON file, found {type(card).__name__}",
        found=type(card).__name__,
    )


def _card(data: Mapping[str, Any]) -> ModelCard:
    known = {f.name for f in fields(ModelCard)}
    return ModelCard(**{k: v for k, v in data.items() if k in known})


def _version(name: str, version: int | str | None) -> int | None:
    if version is None:
        return None
    text = str(version).strip().lower().removeprefix("v")
    if isinstance(version, bool) or not text.isdigit() or int(text) < 1:
        raise ModelError(
            f"model {name!r}: version must be a positive integer, found {version!r}",
            model=name,
            field="version",
            found=repr(version),
        )
    return int(text)


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:6000]  # MLflow's limit on a parameter value


def _flat(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in data.items():
        if isinstance(v, Mapping):
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _flavor(model: Any, flavor: str | None) -> tuple[str, str | None]:
    """The MLflow flavor to log ``model`` with and the distribution to pin."""
    if flavor is not None:
        flavor = flavor.strip().lower()
        dist = next((d for f, d in _FLAVORS.values() if f == flavor), None)
        try:
            module = importlib.import_module(f"mlflow.{flavor}")
        except ImportError as exc:
            raise ModelError(
                f"unknown MLflow flavor {flavor!r} ({exc}); e.g. {', '.join(sorted({f for f, _ in _FLAVORS.values()}))}, pyfunc",
                field="flavor",
                found=flavor,
            ) from exc
        if not hasattr(module, "save_model"):
            raise ModelError(f"mlflow.{flavor} cannot save models", field="flavor", found=flavor)
        return flavor, dist
    mlflow_pyfunc = sys.modules.get("mlflow.pyfunc")
    if mlflow_pyfunc is not None and isinstance(model, mlflow_pyfunc.PythonModel):
        return "pyfunc", None
    package = type(model).__module__.split(".", 1)[0]
    if package in _FLAVORS:
        return _FLAVORS[package]
    raise ModelError(
        f"cannot tell which MLflow flavor logs a {type(model).__module__}.{type(model).__name__}; "
        "pass flavor=... (sklearn, xgboost, lightgbm, pytorch, keras, statsmodels, pyfunc ...)",
        field="flavor",
        found=f"{type(model).__module__}.{type(model).__name__}",
    )


def _saved_model(model_dir: str | os.PathLike[str]) -> tuple[Path, str]:
    """A folder holding a model in MLflow's format, and its main flavor (from the ``MLmodel`` file)."""
    import yaml

    folder = Path(model_dir).expanduser()
    mlmodel = folder / "MLmodel"
    if not mlmodel.is_file():
        raise ModelError(
            f"{folder} is not a saved MLflow model: no MLmodel file in it "
            "(save one with mlflow.<flavor>.save_model(model, path))",
            path=str(folder),
            expected="a folder with an MLmodel file",
        )
    try:
        data = yaml.safe_load(mlmodel.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ModelError(f"{mlmodel}: cannot read the MLmodel file: {exc}", path=str(mlmodel)) from exc
    flavors = [f for f in (data.get("flavors") or {}) if f != "python_function"]
    return folder, (flavors[0] if flavors else "pyfunc")


def _quiet_mlflow() -> None:
    """No usage telemetry (the workbench runs offline), no progress bars, no import-time noise.

    MLflow 3.17's SQL store uses SQLAlchemy 2.1's deprecated ``noload`` at import; the
    warning is about MLflow's code, not ours, and is silenced for that one import.
    """
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if "mlflow.store.tracking.sqlalchemy_store" not in sys.modules:
        import warnings

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The ``noload`` loader strategy", category=DeprecationWarning)
            importlib.import_module("mlflow.store.tracking.sqlalchemy_store")


def _save_model(model: Any, flavor: str, path: Path, pip_requirements: list[str] | None) -> None:
    """Save through the flavor; MLflow's advisory warnings (type-hint inference ...) go to the log."""
    import logging
    import warnings

    _quiet_mlflow()
    module = importlib.import_module(f"mlflow.{flavor}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if flavor == "pyfunc":
            module.save_model(str(path), python_model=model, pip_requirements=pip_requirements)
        else:
            module.save_model(model, str(path), pip_requirements=pip_requirements)
    log = logging.getLogger("odg_workbench.models")
    for w in caught:
        log.info("mlflow.%s.save_model: %s", flavor, re.sub(r"\x1b\[[0-9;]*m", "", str(w.message)))


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:300] if text else ""


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


# -- compliance ------------------------------------------------------------------------------


def model_facts(wb: Workbench) -> list[ModelFacts]:
    """Every registered version as the compliance checks see it (a model source; no MLflow import)."""
    from odg_workbench.compliance.facts import ModelFacts

    out: list[ModelFacts] = []
    for card in wb.models.list(all_versions=True):
        data = card.to_dict()
        data["training_data"] = [
            {"dataset": d, "snapshot_id": card.training_snapshots.get(d)} for d in card.training_datasets
        ]
        out.append(
            ModelFacts(
                name=card.name,
                version=str(card.version),
                card=data,
                training_data=[(d, card.training_snapshots.get(d)) for d in card.training_datasets],
                source="mlflow",
            )
        )
    return out
