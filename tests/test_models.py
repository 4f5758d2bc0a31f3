"""Model cards and the registry: real MLflow (SQLite in the workspace), lineage edges, events, CLI.

MLflow's first use of a workspace creates its database (several seconds), so the tests of
one workspace share it (module fixture, which registers every version they read; a test
that registers more uses a model name of its own, so the tests run in any order).
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from conftest import SAMPLES, run_odg

import odg_workbench as odg
from odg_workbench.errors import TableNotFoundError
from odg_workbench.lineage.models import (
    ModelCard,
    ModelError,
    ModelNotFoundError,
    capture_environment,
    model_facts,
)

pytestmark = pytest.mark.slow

USE = "rank customers by churn risk for retention offers"


def _features(wb: odg.Workbench, as_of: Any = None) -> tuple[np.ndarray, np.ndarray]:
    frame = wb.table("bronze.customers").to_pandas(as_of)
    x = np.column_stack(
        [
            frame["consent_marketing"].astype(float).fillna(0.0).to_numpy(),
            (frame["customer_id"].rank().to_numpy() % 7),
        ]
    )
    y = (frame["segment"] == "premium").astype(int).to_numpy()
    return x, y


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A workspace with customers ingested and two versions of a scikit-learn model registered."""
    from sklearn.linear_model import LogisticRegression

    wb = odg.open(tmp_path_factory.mktemp("models") / "ws", user="ana")
    wb.ingest(SAMPLES / "customers.csv", "bronze.customers")
    first = wb.table("bronze.customers").current_snapshot_id
    x, y = _features(wb)
    m1 = LogisticRegression(C=1.0).fit(x, y)
    card1 = wb.models.register(
        ModelCard(
            name="churn",
            intended_use=USE,
            training_datasets=["bronze.customers"],
            metrics={"accuracy": 0.85, "f1": 0.8},
            parameters={"C": 1.0, "solver": "lbfgs"},
            limitations=["trained on synthetic customers"],
            owner="ana",
        ),
        m1,
    )
    # retrain on a new snapshot (more rows) with other parameters
    extra = (
        wb.table("bronze.customers")
        .to_arrow()
        .slice(0, 50)
        .drop_columns(["_odg_ingested_at", "_odg_source", "_odg_batch_id"])
    )
    wb.ingest(extra, "bronze.customers")
    second = wb.table("bronze.customers").current_snapshot_id
    x2, y2 = _features(wb)
    m2 = LogisticRegression(C=0.5).fit(x2, y2)
    card2 = wb.models.register(
        {
            "name": "churn",
            "intended_use": USE,
            "training_datasets": ["bronze.customers"],
            "metrics": {"accuracy": 0.92, "f1": 0.8},
            "parameters": {"C": 0.5, "solver": "lbfgs"},
            "parent_model": "churn:1",
        },
        m2,
    )
    cv = wb.models.register(
        ModelCard(
            name="cv-ranker",
            intended_use="rank job applicants' CVs for interviews",
            training_datasets=["bronze.customers"],
            training_snapshots={"bronze.customers": first},
            metrics={"ndcg": 0.7},
        )
    )
    yield {"wb": wb, "m1": m1, "m2": m2, "x": x, "card1": card1, "card2": card2, "cv": cv, "snaps": (first, second)}
    wb.close()


def test_register_fills_the_card(lab: dict[str, Any]) -> None:
    card, (first, _) = lab["card1"], lab["snaps"]
    assert (card.name, card.version) == ("churn", 1)
    assert card.training_snapshots == {"bronze.customers": first}
    assert card.framework == "sklearn" and card.model_uri == "models:/churn/1"
    assert card.risk_level == "minimal" and card.risk_assessment["source"] == "classifier"
    assert card.registered_by == "ana"
    env = card.training_environment
    assert env["python_version"] == platform.python_version()
    assert env["packages"]["scikit-learn"]
    assert set(env["cuda"]) == {"available", "version", "driver", "source"}
    assert lab["card2"].version == 2 and lab["card2"].parent_model == "churn:1"


def test_mlflow_holds_the_run_card_and_model(lab: dict[str, Any]) -> None:
    wb, card = lab["wb"], lab["card1"]
    client = wb.models.client()
    assert client.tracking_uri == f"sqlite:///{wb.root}/mlflow.db"
    mv = client.get_model_version("churn", "1")
    assert mv.run_id == card.mlflow_run_id and mv.tags["odg.training_datasets"] == "bronze.customers"
    run = client.get_run(card.mlflow_run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params == {"C": "1.0", "solver": "lbfgs"}
    assert run.data.metrics == {"accuracy": 0.85, "f1": 0.8}
    assert run.data.tags["odg.risk_level"] == "minimal" and run.data.tags["mlflow.user"] == "ana"
    local = client.download_artifacts(card.mlflow_run_id, "card/model_card.json", str(wb.root / "tmp-card"))
    stored = json.loads(Path(local).read_text())
    assert stored["training_snapshots"] == card.training_snapshots and stored["version"] == 1
    assert (wb.root / "mlartifacts").is_dir()  # artifacts stay in the workspace
    # the registered model predicts like the one that was fitted
    loaded = wb.models.load("churn", 1)
    np.testing.assert_array_equal(loaded.predict(lab["x"][:20]), lab["m1"].predict(lab["x"][:20]))


def test_get_list_versions(lab: dict[str, Any]) -> None:
    wb = lab["wb"]
    assert wb.models.get("churn").version == 2
    assert wb.models.get("churn", "v1").metrics == {"accuracy": 0.85, "f1": 0.8}
    latest = {c.name: c.version for c in wb.models.list()}
    assert latest["churn"] == 2 and latest["cv-ranker"] == 1
    assert [c.version for c in wb.models.versions("churn")] == [1, 2]
    assert [(c.name, c.version) for c in wb.models.list("churn", all_versions=True)] == [("churn", 1), ("churn", 2)]
    everything = [(c.name, c.version) for c in wb.models.list(all_versions=True)]
    assert everything == sorted(everything) and {("churn", 1), ("churn", 2), ("cv-ranker", 1)} <= set(everything)
    with pytest.raises(ModelNotFoundError, match="did you mean churn"):
        wb.models.get("chrun")
    with pytest.raises(ModelNotFoundError, match="no version 7; versions: 1, 2"):
        wb.models.get("churn", 7)


def test_compare_versions(lab: dict[str, Any]) -> None:
    wb, (first, second) = lab["wb"], lab["snaps"]
    diff = wb.models.compare("churn", 1, 2)
    assert diff["metrics_diff"]["accuracy"] == {"from": 0.85, "to": 0.92, "delta": 0.07, "percent_change": 8.24}
    assert diff["metrics_diff"]["f1"] == {"from": 0.8, "to": 0.8, "delta": 0.0, "percent_change": 0.0}
    assert diff["params_diff"] == {"C": {"from": 1.0, "to": 0.5}}
    assert diff["training_data_changed"] is True
    assert diff["training_data"]["snapshot_changed"] == {"bronze.customers": {"from": first, "to": second}}
    same = wb.models.compare("churn", 2, 2)
    assert same["training_data_changed"] is False and same["params_diff"] == {}


def test_lineage_edges_and_reproducibility(lab: dict[str, Any]) -> None:
    wb, (first, second) = lab["wb"], lab["snaps"]
    edges = [e for e in wb.lineage.edges(kind="TRAINED_ON") if e.src == "model:churn"]
    assert {(e.dst, e.dst_snapshot, e.props.get("model_version")) for e in edges} == {
        ("dataset:bronze.customers", first, 1),
        ("dataset:bronze.customers", second, 2),
    }
    lineage = wb.lineage.model_lineage("churn", version=1)
    assert lineage.is_reproducible and lineage.as_of == {"bronze.customers": first}


def test_registration_event(lab: dict[str, Any]) -> None:
    wb = lab["wb"]
    messages = [m for m in wb.eventlog.read("odg.mlflow.model.registered") if m.payload["model"] == "churn"]
    assert [(m.type, m.payload["model"], m.payload["version"]) for m in messages] == [
        ("mlflow.model.registered", "churn", 1),
        ("mlflow.model.registered", "churn", 2),
    ]
    assert messages[1].payload["parent_model"] == "churn:1"


def test_card_only_registration_and_compliance_facts(lab: dict[str, Any]) -> None:
    wb, card = lab["wb"], lab["cv"]
    assert card.version == 1 and card.framework == ""
    assert card.risk_level == "high" and card.risk_assessment["classifier"]["level"] == "high"
    with pytest.raises(ModelError, match="without a model"):
        wb.models.load("cv-ranker")
    facts = {(f.name, f.version): f for f in model_facts(wb)}
    assert {("churn", "1"), ("churn", "2"), ("cv-ranker", "1")} <= set(facts)
    assert facts[("cv-ranker", "1")].training_data == [("bronze.customers", lab["snaps"][0])]
    assert facts[("churn", "1")].field("intended_use") == USE


@pytest.mark.parametrize(
    ("card", "error", "words"),
    [
        pytest.param(
            {"name": "x", "training_datasets": ["bronze.customer"]},
            TableNotFoundError,
            ["bronze.customer ", "did you mean bronze.customers"],
            id="unknown-dataset",
        ),
        pytest.param({"name": "x", "risk_level": "medium"}, ModelError, ["risk_level", "medium", "minimal"], id="risk"),
        pytest.param({"name": "x", "metrics": {"auc": "good"}}, ModelError, ["metrics.auc", "number"], id="metric"),
        pytest.param({"name": "x", "acuracy": 1}, ModelError, ["unknown field 'acuracy'"], id="unknown-field"),
        pytest.param({"name": "bad name!"}, ModelError, ["name", "not a model name"], id="name"),
        pytest.param({"name": "churn", "version": 9}, ModelError, ["version 9", "next version is 3"], id="version"),
        pytest.param({"name": "x", "parent_model": "ghost:1"}, ModelNotFoundError, ["ghost"], id="parent"),
        pytest.param({"name": "x", "parent_model": "churn"}, ModelError, ["parent_model", "name:version"], id="ref"),
        pytest.param(
            {
                "name": "x",
                "training_datasets": ["bronze.customers"],
                "training_snapshots": {"bronze.customers": "nope"},
            },
            LookupError,
            ["'nope'"],
            id="unknown-snapshot",
        ),
        pytest.param(
            {"name": "x", "intended_use": "social scoring of citizens by the government"},
            ModelError,
            ["prohibited practice", "Art. 5"],
            id="prohibited",
        ),
    ],
)
def test_bad_cards_register_nothing(lab: dict[str, Any], card: dict[str, Any], error: type, words: list[str]) -> None:
    wb = lab["wb"]
    before = len(wb.models.client().search_model_versions(""))
    with pytest.raises(error) as info:
        wb.models.register(card)
    for word in words:
        assert word in str(info.value)
    assert len(wb.models.client().search_model_versions("")) == before
    assert [c.version for c in wb.models.list("churn", all_versions=True)] == [1, 2]


def test_environment_capture_is_cheap_and_complete() -> None:
    env = capture_environment(["pyyaml"])
    assert env["python_version"] == platform.python_version()
    assert env["machine"] == platform.machine()
    assert "numpy" in env["packages"] and "pyyaml" in env["packages"]
    assert "tensorflow-not-a-package" not in capture_environment(["tensorflow-not-a-package"])["packages"]
    assert isinstance(env["cuda"]["available"], bool)


def test_cli_register_show_list_compare(lab: dict[str, Any], tmp_path: Path) -> None:
    import mlflow.sklearn

    wb = lab["wb"]
    saved = tmp_path / "saved-model"
    mlflow.sklearn.save_model(lab["m2"], str(saved), pip_requirements=["scikit-learn"])
    card = tmp_path / "card.yaml"
    card.write_text(
        "name: churn-cli\n"
        f"intended_use: {USE}\n"
        "training_datasets: [bronze.customers]\n"
        "metrics: {accuracy: 0.9, f1: 0.81}\n"
        "parameters: {C: 0.5}\n"
        "parent_model: churn:2\n"
        "limitations: small sample\n"
    )
    out = run_odg("model", "register", "--card", str(card), "--model", str(saved), "--json", workspace=wb.root)
    registered = json.loads(out.stdout)
    assert registered["name"] == "churn-cli" and registered["version"] == 1
    assert registered["framework"] == "sklearn" and registered["parent_model"] == "churn:2"
    assert registered["limitations"] == ["small sample"]

    np.testing.assert_array_equal(wb.models.load("churn-cli").predict(lab["x"][:20]), lab["m2"].predict(lab["x"][:20]))

    shown = json.loads(run_odg("model", "show", "churn-cli:1", "--json", workspace=wb.root).stdout)
    assert shown["metrics"] == {"accuracy": 0.9, "f1": 0.81}
    listed = json.loads(run_odg("model", "list", "--json", workspace=wb.root).stdout)
    assert {("churn", 2), ("cv-ranker", 1), ("churn-cli", 1)} <= {(c["name"], c["version"]) for c in listed}
    compared = json.loads(run_odg("compare", "model", "churn", "1", "2", "--json", workspace=wb.root).stdout)
    assert compared == json.loads(json.dumps(wb.models.compare("churn", 1, 2)))
    assert compared["metrics_diff"]["accuracy"]["delta"] == 0.07
    again = json.loads(run_odg("model", "compare", "churn", "1", "2", "--json", workspace=wb.root).stdout)
    assert again == compared

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: churn\nrisk_level: extreme\n")
    failed = run_odg("model", "register", "--card", str(bad), "--json", workspace=wb.root, check=False)
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["error"]["field"] == "risk_level"
    missing = run_odg("model", "show", "nope", "--json", workspace=wb.root, check=False)
    assert missing.returncode == 1 and json.loads(missing.stdout)["error"]["type"] == "ModelNotFoundError"


def test_tracking_uri_setting_points_elsewhere(tmp_path: Path) -> None:
    wb = odg.open(tmp_path / "ws2", user="bo")
    wb.config.set("mlflow.tracking_uri", f"sqlite:///{tmp_path}/shared/mlflow.db")
    wb.config.set("mlflow.experiment", "team")
    wb.ingest(pa.table({"a": [1, 2]}), "bronze.t")
    card = wb.models.register(ModelCard(name="tiny", training_datasets=["bronze.t"], metrics={"mae": 1.5}))
    client = wb.models.client()
    assert (tmp_path / "shared" / "mlflow.db").exists() and not (wb.root / "mlflow.db").exists()
    assert client.get_experiment_by_name("team") is not None
    assert client.get_run(card.mlflow_run_id).info.experiment_id == client.get_experiment_by_name("team").experiment_id
    wb.close()


def test_compliance_checks_see_the_registered_models(lab: dict[str, Any]) -> None:
    from odg_workbench.compliance.registry import check

    wb = lab["wb"]
    report = check("eu_ai_act", "workspace", workbench=wb)
    evidence = " | ".join(str(f.to_dict().get("evidence")) for f in report.findings)
    assert "cv-ranker v1: high" in evidence  # the risk level read from the card's intended use
    assert "churn v2" in evidence
    assert "cv-ranker v1: no human oversight" in evidence  # a high-risk card without it fails


def test_unreachable_mlflow_server_registers_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from conftest import free_port

    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    wb = odg.open(tmp_path / "ws3", user="bo")
    url = f"http://127.0.0.1:{free_port()}"
    wb.config.set("mlflow.tracking_uri", url)
    wb.ingest(pa.table({"a": [1, 2]}), "bronze.t")
    with pytest.raises(ModelError, match=r"MLflow at http://127\.0\.0\.1:\d+ cannot be used") as info:
        wb.models.register(ModelCard(name="tiny", training_datasets=["bronze.t"]))
    assert info.value.details["setting"] == "mlflow.tracking_uri"
    assert wb.models.list() == []
    assert wb.lineage.edges(kind="TRAINED_ON") == []
    assert wb.eventlog.read("odg.mlflow.model.registered") == []
    wb.close()
