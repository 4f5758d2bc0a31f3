"""Workspace creation, reopening, configuration and identity."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

import odg_workbench as odg
from odg_workbench.config import SETTINGS, Config


def test_open_creates_a_complete_workspace(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    with odg.open(root) as wb:
        assert wb.root == root
        assert (root / "odg.toml").is_file()
        assert (root / "warehouse").is_dir()
        assert (root / "catalog.db").is_file()
        namespaces = sorted(ns[0] for ns in wb.catalog.list_namespaces())
        assert namespaces == ["bronze", "gold", "platinum", "silver"]
        wb.ingest(__import__("pyarrow").table({"a": [1]}), "bronze.t")
        assert (root / "state.db").is_file()
    for db in ("catalog.db", "state.db"):
        mode = sqlite3.connect(root / db).execute("PRAGMA journal_mode").fetchone()[0]
        assert mode == "wal", f"{db} is not in WAL mode"


def test_reopen_keeps_tables_and_config(tmp_path: Path) -> None:
    import pyarrow as pa

    with odg.open(tmp_path / "w") as wb:
        wb.ingest(pa.table({"x": [1, 2, 3]}), "bronze.nums")
        wb.config.set("workspace.name", "sales-lake")
        wb.config.save()
    with odg.open(tmp_path / "w") as wb:
        assert [t.table for t in wb.tables()] == ["bronze.nums"]
        assert wb.name == "sales-lake"
        assert wb.table("bronze.nums").count() == 3


def test_open_without_create_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(odg.WorkspaceError, match="odg init") as err:
        odg.open(tmp_path / "missing", create=False)
    assert err.value.details["path"] == str(tmp_path / "missing")
    assert not (tmp_path / "missing").exists()


def test_open_refuses_a_file(tmp_path: Path) -> None:
    f = tmp_path / "not-a-folder"
    f.write_text("x")
    with pytest.raises(odg.WorkspaceError, match="is a file"):
        odg.open(f)


def test_default_location_comes_from_odg_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODG_HOME", str(tmp_path / "home-ws"))
    assert odg.default_workspace() == tmp_path / "home-ws"
    with odg.open() as wb:
        assert wb.root == tmp_path / "home-ws"


def test_default_location_without_odg_home_is_xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ODG_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert odg.default_workspace() == tmp_path / "xdg" / "odg-workbench"


def test_identity_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ODG_USER", raising=False)
    with odg.open(tmp_path / "w") as wb:
        wb.config.set("user.name", "configured")
        assert wb.user == "configured"
        monkeypatch.setenv("ODG_USER", "from-env")
        assert wb.user == "from-env"
    with odg.open(tmp_path / "w", user="explicit") as wb:
        assert wb.user == "explicit"


def test_config_env_overrides_file_and_expands_placeholders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = Config(tmp_path, {"state": {"url": "sqlite:///{workspace}/custom.db"}})
    assert cfg.get("state.url") == f"sqlite:///{tmp_path}/custom.db"
    assert cfg.raw("state.url")[1] == "file"
    monkeypatch.setenv("ODG_STATE_URL", "postgresql+psycopg2://u@h/db")
    assert cfg.get("state.url") == "postgresql+psycopg2://u@h/db"
    assert cfg.raw("state.url")[1] == "env"


def test_config_secrets_come_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = Config(tmp_path, {"catalog": {"type": "rest", "uri": "http://cat:8181", "token": "${CAT_TOKEN}"}})
    with pytest.raises(odg.ConfigError, match="CAT_TOKEN"):
        cfg.catalog_properties()
    monkeypatch.setenv("CAT_TOKEN", "s3cr3t")
    props = cfg.catalog_properties()
    assert props["token"] == "s3cr3t"
    assert props["type"] == "rest"
    listed = {k: v for k, v, _ in cfg.items()}
    assert listed["catalog.token"] == "${CAT_TOKEN}"  # the file's reference, never the secret


def test_config_masks_literal_secrets_when_listed(tmp_path: Path) -> None:
    cfg = Config(tmp_path, {"catalog": {"s3.secret-access-key": "plain-text-secret"}})
    listed = {k: v for k, v, _ in cfg.items()}
    assert listed["catalog.s3.secret-access-key"] == "***"


def test_config_unknown_setting_suggests(tmp_path: Path) -> None:
    with pytest.raises(odg.ConfigError, match=r"did you mean lakehouse.retention_keep_last") as err:
        Config(tmp_path, {"lakehouse": {"retention_keep_lst": 3}})
    assert err.value.details["field"] == "lakehouse.retention_keep_lst"


def test_config_wrong_type_names_setting(tmp_path: Path) -> None:
    with pytest.raises(odg.ConfigError, match="expected int") as err:
        Config(tmp_path, {"lakehouse": {"retention_keep_last": "many"}})
    assert err.value.details["setting"] == "lakehouse.retention_keep_last"


def test_config_invalid_toml_names_line(tmp_path: Path) -> None:
    (tmp_path / "odg.toml").write_text('[workspace]\nname = "ok"\n[lakehouse\nretention_keep_last = 3\n')
    with pytest.raises(odg.ConfigError) as err:
        Config.load(tmp_path)
    assert err.value.details["line"] == 3
    assert str(tmp_path / "odg.toml") in err.value.message


def test_config_save_is_atomic_and_roundtrips(tmp_path: Path) -> None:
    cfg = Config(tmp_path)
    cfg.set("lakehouse.retention_keep_last", "12")
    cfg.set("catalog.s3.endpoint", "http://minio:9000")
    cfg.save()
    again = Config.load(tmp_path)
    assert again.get("lakehouse.retention_keep_last") == 12
    assert again.catalog_properties()["s3.endpoint"] == "http://minio:9000"
    assert not list(tmp_path.glob("*.tmp"))


def test_every_setting_is_documented() -> None:
    doc = (Path(__file__).resolve().parents[1] / "docs" / "configuration.md").read_text()
    missing = [s.key for s in SETTINGS if f"`{s.key}`" not in doc]
    assert not missing, f"settings missing from docs/configuration.md: {missing}"
    undocumented_env = [s.env for s in SETTINGS if s.env not in doc]
    assert not undocumented_env


def test_bad_state_url_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow as pa

    monkeypatch.setenv("ODG_STATE_URL", "nosuchdb://x/y")
    with odg.open(tmp_path / "w") as wb, pytest.raises(odg.WorkspaceError, match=r"state\.url"):
        wb.ingest(pa.table({"a": [1]}), "t")


def test_catalog_dotted_toml_keys_become_pyiceberg_properties(tmp_path: Path) -> None:
    (tmp_path / "odg.toml").write_text('[catalog]\ns3.endpoint = "http://minio:9000"\n"s3.region" = "sa-east-1"\n')
    props = Config.load(tmp_path).catalog_properties()
    assert props["s3.endpoint"] == "http://minio:9000"
    assert props["s3.region"] == "sa-east-1"
