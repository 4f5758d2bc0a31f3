"""Differential privacy (odg_workbench.privacy.dp): accuracy claims that hold, budgets that refuse.

The statistical tests compare the accuracy each answer claims with the errors actually
drawn (OpenDP's noise cannot be seeded): their tolerances are about 3.7 standard errors,
so a correct implementation fails them about once in several thousand runs, while an
accuracy computed at the wrong confidence (90% reported as 95%) or a noise scale off by
a fifth fails them nearly always.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import subprocess
import sys
import threading
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest

import odg_workbench as odg
from odg_workbench.config import Config
from odg_workbench.errors import TableNotFoundError
from odg_workbench.governance.policy import PermissionDeniedError
from odg_workbench.privacy.dp import OTHER, DPInputError, PrivacyBudgetExceededError
from tests.conftest import new_pg_database, odg_json, run_odg

N = 400


@pytest.fixture
def people(ws: odg.Workbench) -> odg.Workbench:
    rng = np.random.default_rng(7)
    ws.ingest(
        pa.table(
            {
                "id": pa.array(range(N), pa.int64()),
                "age": pa.array(rng.integers(0, 90, N), pa.int64()),
                "income": pa.array(rng.uniform(1000, 9000, N)),
                "city": pa.array(rng.choice(["SP", "RJ", "BH"], N).tolist()),
                "person": pa.array(rng.integers(0, 100, N), pa.int64()),
            }
        ),
        "bronze.people",
    )
    return ws


def _exact(wb: odg.Workbench, sql: str) -> Any:
    row = wb.sql(sql).fetchone()
    assert row is not None
    return row[0]


def _unlimited(wb: odg.Workbench) -> None:
    wb.config.set("privacy.dp_default_epsilon", 1e9)


# -- accuracy: claims against draws -----------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["laplace", "gaussian"])
def test_count_accuracy_covers_95_percent_of_draws(ws: odg.Workbench, mechanism: str) -> None:
    """600 noisy counts (the bins of two histograms): 95% within the claimed accuracy, noise of the claimed scale."""
    _unlimited(ws)
    sizes = {f"c{i}": 1 + (i * 7) % 23 for i in range(300)}
    ws.ingest(pa.table({"cat": [c for c, k in sizes.items() for _ in range(k)]}), "bronze.cats")
    errors: list[float] = []
    for _ in range(2):
        r = ws.dp.histogram("bronze.cats", "cat", epsilon=0.05, categories=list(sizes), mechanism=mechanism)
        assert r.value[OTHER] is not None and len(r.value) == 301
        errors += [r.value[c] - sizes[c] for c in sizes]
    err = np.abs(np.array(errors))
    coverage = float(np.mean(err < r.accuracy))  # discrete noise: P(|error| >= accuracy) <= 5%
    assert abs(coverage - 0.95) < 0.035, (coverage, r.accuracy)
    # the spread of the noise is the one the scale says (Laplace: sd = b * sqrt(2); Gaussian: sd = sigma)
    assert isinstance(r.scale, float)
    expected_sd = r.scale * (np.sqrt(2) if mechanism == "laplace" else 1.0)
    assert abs(float(np.std(errors)) / expected_sd - 1) < 0.15
    assert r.noise == f"discrete {mechanism}"
    assert r.accuracy_text.endswith("at 95% per bin")


@pytest.mark.slow
def test_sum_accuracy_covers_95_percent_of_draws(ws: odg.Workbench) -> None:
    _unlimited(ws)
    values = np.random.default_rng(3).uniform(0, 100, 50)
    ws.ingest(pa.table({"x": values}), "bronze.small")
    exact = float(values.sum())
    hits = []
    for _ in range(400):
        r = ws.dp.sum("bronze.small", "x", epsilon=1.0, bounds=(0, 100))
        hits.append(abs(r.value - exact) <= r.accuracy)
    assert abs(float(np.mean(hits)) - 0.95) < 0.04, np.mean(hits)
    assert r.noise == "laplace" and r.scale == pytest.approx(100, rel=1e-6)  # sensitivity 100 / epsilon 1
    assert r.accuracy == pytest.approx(100 * np.log(20), rel=1e-6)  # Laplace: b * ln(1 / alpha)


def test_mean_is_within_its_accuracy(ws: odg.Workbench) -> None:
    """The mean's accuracy is a union bound: it covers at least 95% of draws, without being vacuous."""
    _unlimited(ws)
    values = np.random.default_rng(5).uniform(20, 60, 300)
    ws.ingest(pa.table({"x": values}), "bronze.m")
    exact = float(values.mean())
    results = [ws.dp.mean("bronze.m", "x", epsilon=0.2, bounds=(0, 100)) for _ in range(100)]
    errors = np.array([abs(r.value - exact) for r in results])
    claimed = np.array([r.accuracy for r in results])
    assert float(np.mean(errors <= claimed)) >= 0.95
    assert float(np.quantile(errors, 0.95)) > float(np.median(claimed)) / 4  # not a uselessly wide claim
    assert all(0 <= r.value <= 100 for r in results)
    r = results[0]
    assert r.epsilon == pytest.approx(0.2) and set(r.parts) == {"sum", "count"}
    assert abs(r.parts["count"] - 300) < 100


def test_values_are_clamped_into_the_bounds(ws: odg.Workbench) -> None:
    _unlimited(ws)
    ws.ingest(pa.table({"x": [1000.0] * 150 + [-1000.0] * 50, "k": [7] * 200}), "bronze.wide")
    total = ws.dp.sum("bronze.wide", "x", epsilon=20.0, bounds=(0, 10))
    assert abs(total.value - 1500) < 50  # 150 x 10 + 50 x 0, not 100000
    mean = ws.dp.mean("bronze.wide", "x", epsilon=20.0, bounds=(-5, 5))
    assert abs(mean.value - 2.5) < 0.5  # (150 x 5 + 50 x -5) / 200
    ints = ws.dp.sum("bronze.wide", "k", epsilon=20.0, bounds=(0, 3))
    assert isinstance(ints.value, int) and abs(ints.value - 600) < 50
    assert ints.noise == "discrete laplace"


def test_histograms_by_category_and_by_bins(people: odg.Workbench) -> None:
    _unlimited(people)
    by_city = people.dp.histogram("bronze.people", "city", epsilon=10.0, categories=["SP", "RJ"])
    exact = dict(people.sql("SELECT city, count(*) FROM bronze.people GROUP BY city").fetchall())
    assert set(by_city.value) == {"SP", "RJ", OTHER}
    assert abs(by_city.value["SP"] - exact["SP"]) < 10 and abs(by_city.value[OTHER] - exact["BH"]) < 10
    by_age = people.dp.histogram("bronze.people", "age", epsilon=10.0, bins=[18, 65])
    assert list(by_age.value) == ["(-inf, 18)", "[18, 65)", "[65, inf)"]
    under = _exact(people, "SELECT count(*) FROM bronze.people WHERE age < 18")
    assert abs(by_age.value["(-inf, 18)"] - under) < 10


def test_filter_and_contributions_per_individual(people: odg.Workbench) -> None:
    _unlimited(people)
    sp = people.dp.count("bronze.people", epsilon=10.0, where="city = 'SP'")
    assert abs(sp.value - _exact(people, "SELECT count(*) FROM bronze.people WHERE city = 'SP'")) < 10
    assert sp.where == "city = 'SP'"
    # one individual per `person`, at most 2 rows each: the noise doubles, the count is of kept rows
    capped = people.dp.count("bronze.people", epsilon=10.0, privacy_unit="person", max_contributions=2)
    one = people.dp.count("bronze.people", epsilon=10.0)
    assert capped.scale == pytest.approx(2 * float(one.scale))
    kept = _exact(people, "SELECT sum(least(n, 2)) FROM (SELECT count(*) n FROM bronze.people GROUP BY person)")
    assert kept < N and abs(capped.value - kept) < 10
    assert capped.epsilon == pytest.approx(10.0)


def test_filters_that_look_at_other_rows_are_refused(people: odg.Workbench) -> None:
    for where, why in [
        ("age > (SELECT avg(age) FROM bronze.people)", "subquery"),
        ("EXISTS (SELECT 1 FROM bronze.people WHERE age > 80)", "subquery"),
        ("count(*) > 3", "aggregate"),
        ("row_number() OVER () < 10", "window"),
    ]:
        with pytest.raises(DPInputError, match=why):
            people.dp.count("bronze.people", epsilon=0.1, where=where)
    with pytest.raises(DPInputError, match=r"not a SQL condition|not one SQL condition"):
        people.dp.count("bronze.people", epsilon=0.1, where="age > 1; DROP TABLE x")
    assert people.dp.budget("bronze.people").epsilon_spent == 0


# -- the budget -------------------------------------------------------------------------------------


def test_budget_refuses_before_any_release(people: odg.Workbench) -> None:
    seen: list[Any] = []
    people.events.subscribe(seen.append, "privacy.")
    first = people.dp.count("bronze.people", epsilon=0.6)
    assert first.budget.epsilon_spent == pytest.approx(0.6) and first.budget.epsilon_left == pytest.approx(0.4)
    assert first.budget.source == "default" and first.budget.epsilon == 1.0
    with pytest.raises(PrivacyBudgetExceededError) as err:
        people.dp.mean("bronze.people", "age", epsilon=0.5, bounds=(0, 100))
    message = err.value.message
    assert "spent 0.600" in message and "requested 0.500" in message and "limit 1.00" in message
    assert err.value.details["spent"] == pytest.approx(0.6)
    assert err.value.details["requested"] == pytest.approx(0.5)
    assert err.value.details["limit"] == 1.0
    assert len(people.dp.ledger("bronze.people")) == 1
    assert [e.type for e in seen] == ["privacy.dp_query"]
    # what is left can still be spent: ten queries of 0.04 fit 0.4 exactly (float sums tolerated)
    for _ in range(10):
        people.dp.count("bronze.people", epsilon=0.04)
    assert people.dp.budget("bronze.people").epsilon_left == pytest.approx(0, abs=1e-9)
    with pytest.raises(PrivacyBudgetExceededError):
        people.dp.count("bronze.people", epsilon=0.01)


def test_budgets_are_per_table_and_consumer(people: odg.Workbench) -> None:
    people.ingest(pa.table({"x": [1, 2, 3]}), "bronze.other")
    people.dp.count("bronze.people", epsilon=0.9, consumer="app1")
    people.dp.count("bronze.people", epsilon=0.9, consumer="app2")
    people.dp.count("bronze.other", epsilon=0.9, consumer="app1")
    with pytest.raises(PrivacyBudgetExceededError, match="consumer app1"):
        people.dp.count("bronze.people", epsilon=0.2, consumer="app1")
    rows = {(b.table, b.consumer): b.epsilon_spent for b in people.dp.budgets()}
    assert rows == {
        ("bronze.other", "app1"): pytest.approx(0.9),
        ("bronze.people", "app1"): pytest.approx(0.9),
        ("bronze.people", "app2"): pytest.approx(0.9),
    }
    ledger = people.dp.ledger(consumer="app1")
    assert [(r["table"], r["kind"], r["actor"]) for r in ledger] == [
        ("bronze.people", "count", "tester"),
        ("bronze.other", "count", "tester"),
    ]


def test_only_owners_and_admins_set_budgets(people: odg.Workbench) -> None:
    people.config.set("governance.admins", "root")
    people.config.save()
    with pytest.raises(PermissionDeniedError, match=r"tester may not privacy\.budget\.set on dataset bronze\.people"):
        people.dp.set_budget("bronze.people", "analyst", 5.0)
    root = odg.open(people.root, user="root")
    try:
        root.raci.set("dataset:bronze.people", accountable=["owner"])
        budget = root.dp.set_budget("bronze.people", "analyst", 2.0, delta=1e-6)
        assert (budget.epsilon, budget.delta, budget.source, budget.set_by) == (2.0, 1e-6, "set", "root")
    finally:
        root.close()
    owner = odg.open(people.root, user="owner")
    try:
        assert owner.dp.set_budget("bronze.people", "analyst", 3.0).epsilon == 3.0
        owner.dp.count("bronze.people", epsilon=2.5, consumer="analyst")  # over the 1.0 default, within 3.0
        lowered = owner.dp.set_budget("bronze.people", "analyst", 1.0)
        assert lowered.epsilon_spent == pytest.approx(2.5) and lowered.epsilon_left == 0
        with pytest.raises(PrivacyBudgetExceededError):
            owner.dp.count("bronze.people", epsilon=0.1, consumer="analyst")
        audited = [r.type for r in owner.audit.records(type_prefix="privacy.")]
        assert audited == [
            "privacy.dp_budget_set",
            "privacy.dp_budget_set",
            "privacy.dp_query",
            "privacy.dp_budget_set",
        ]
    finally:
        owner.close()


def test_gaussian_spends_delta(people: odg.Workbench) -> None:
    people.config.set("privacy.dp_default_delta", 2e-7)
    r = people.dp.count("bronze.people", epsilon=0.2, mechanism="gaussian", delta=1e-7)
    assert r.delta == pytest.approx(1e-7) and r.epsilon <= 0.2 + 1e-12 and r.epsilon > 0.19
    assert r.noise == "discrete gaussian"
    people.dp.sum("bronze.people", "income", epsilon=0.2, bounds=(0, 10000), mechanism="gaussian", delta=1e-7)
    with pytest.raises(PrivacyBudgetExceededError, match="delta"):
        people.dp.count("bronze.people", epsilon=0.1, mechanism="gaussian", delta=1e-7)
    assert people.dp.count("bronze.people", epsilon=0.1).delta == 0  # laplace needs no delta


ROUNDS = 4


def _spend(root: str, barrier: Any, queue: Any) -> None:
    wb = odg.open(root, user="tester")
    try:
        wb.dp.count("bronze.people", epsilon=0.01, consumer="warm")  # imports and connections before the race
        outcomes = []
        for i in range(ROUNDS):
            barrier.wait()  # both ask at the same moment: both find 0.6 left of 1.0 before either pays
            try:
                wb.dp.count("bronze.people", epsilon=0.6, consumer=f"round{i}")
                outcomes.append("answered")
            except PrivacyBudgetExceededError:
                outcomes.append("refused")
        queue.put(outcomes)
    finally:
        wb.close()


@pytest.mark.slow
def test_two_processes_cannot_overspend(people: odg.Workbench) -> None:
    people.dp.budget("bronze.people")  # the state tables exist
    ctx = mp.get_context("spawn")
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_spend, args=(str(people.root), barrier, queue)) for _ in range(2)]
    for p in procs:
        p.start()
    outcomes = [queue.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    for i in range(ROUNDS):  # 2 x 0.6 > 1.0: exactly one of the two is answered, in every round
        assert sorted(out[i] for out in outcomes) == ["answered", "refused"], outcomes
        spent = people.dp.budget("bronze.people", f"round{i}")
        assert spent.queries == 1 and spent.epsilon_spent == pytest.approx(0.6)


def _race_threads(wb: odg.Workbench) -> None:
    wb.dp.count("bronze.people", epsilon=0.01, consumer="warm")
    barrier = threading.Barrier(3)
    answered: Counter[int] = Counter()

    def spend() -> None:
        for i in range(ROUNDS):
            barrier.wait()
            try:
                wb.dp.count("bronze.people", epsilon=0.4, consumer=f"round{i}")
                answered[i] += 1
            except PrivacyBudgetExceededError:
                pass

    threads = [threading.Thread(target=spend) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answered == dict.fromkeys(range(ROUNDS), 2)  # 2 x 0.4 fit 1.0, a third does not
    assert all(wb.dp.budget("bronze.people", f"round{i}").queries == 2 for i in range(ROUNDS))


def test_threads_cannot_overspend(people: odg.Workbench) -> None:
    _race_threads(people)


@pytest.mark.slow
@pytest.mark.postgres
def test_threads_cannot_overspend_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    """PostgreSQL has no BEGIN IMMEDIATE: the budget row is created, then locked (SELECT ... FOR UPDATE)."""
    root = tmp_path / "pg-ws"
    root.mkdir()
    config = Config(root)
    config.set("state.url", new_pg_database(postgres_url, f"dp_{uuid.uuid4().hex[:12]}"))
    config.save()
    wb = odg.open(root, user="tester")
    try:
        assert not wb.state.is_sqlite
        wb.ingest(pa.table({"x": [1, 2, 3]}), "bronze.people")
        _race_threads(wb)
    finally:
        wb.close()


# -- bad input --------------------------------------------------------------------------------------


def test_bad_input_is_named(people: odg.Workbench) -> None:
    dp = people.dp
    with pytest.raises(DPInputError, match=r"no column 'agee'; did you mean age\?") as err:
        dp.mean("bronze.people", "agee", epsilon=1.0, bounds=(0, 100))
    assert err.value.details["suggestions"][0] == "age"
    with pytest.raises(DPInputError, match=r"column 'city' of bronze.people is VARCHAR; sum needs a numeric column"):
        dp.sum("bronze.people", "city", epsilon=1.0, bounds=(0, 1))
    for eps in (0, -1, float("nan"), float("inf"), "x"):
        with pytest.raises(DPInputError, match="epsilon must be"):
            dp.count("bronze.people", epsilon=eps)  # type: ignore[arg-type]
    with pytest.raises(DPInputError, match=r"bounds \(100, 0\) are reversed"):
        dp.sum("bronze.people", "age", epsilon=1.0, bounds=(100, 0))
    with pytest.raises(DPInputError, match="bounds are required"):
        dp.mean("bronze.people", "age", epsilon=1.0, bounds=None)  # type: ignore[arg-type]
    with pytest.raises(DPInputError, match="mechanism 'exponential' is not one of laplace, gaussian"):
        dp.count("bronze.people", epsilon=1.0, mechanism="exponential")
    with pytest.raises(DPInputError, match="delta is for the gaussian mechanism"):
        dp.count("bronze.people", epsilon=1.0, delta=1e-6)
    with pytest.raises(DPInputError, match="either categories"):
        dp.histogram("bronze.people", "city", epsilon=1.0)
    with pytest.raises(DPInputError, match="strictly increasing"):
        dp.histogram("bronze.people", "age", epsilon=1.0, bins=[10, 5])
    with pytest.raises(DPInputError, match="bins need a numeric column"):
        dp.histogram("bronze.people", "city", epsilon=1.0, bins=[1, 2])
    with pytest.raises(DPInputError, match="max_contributions needs privacy_unit"):
        dp.count("bronze.people", epsilon=1.0, max_contributions=3)
    with pytest.raises(DPInputError, match="no privacy unit column 'persn'; did you mean person"):
        dp.count("bronze.people", epsilon=1.0, privacy_unit="persn", max_contributions=2)
    with pytest.raises(TableNotFoundError, match=r"did you mean bronze\.people"):
        dp.count("bronze.peple", epsilon=1.0)
    with pytest.raises(DPInputError, match="finite number >= 0"):
        dp.set_budget("bronze.people", "x", -1.0)
    assert dp.ledger() == []  # nothing was charged


def test_an_empty_table_is_answered_not_refused(ws: odg.Workbench) -> None:
    """Refusing would reveal that the table (or the filter's selection) is empty."""
    ws.lakehouse.create_table("bronze.empty", pa.schema([("x", pa.float64()), ("c", pa.string())]))
    count = ws.dp.count("bronze.empty", epsilon=0.3)
    assert abs(count.value) < 60
    hist = ws.dp.histogram("bronze.empty", "c", epsilon=0.3, categories=["a"])
    assert set(hist.value) == {"a", OTHER}
    mean = ws.dp.mean("bronze.empty", "x", epsilon=0.3, bounds=(0, 10))
    assert 0 <= mean.value <= 10 and mean.accuracy <= 10
    assert ws.dp.budget("bronze.empty").epsilon_spent == pytest.approx(0.9)


# -- CLI and packaging ------------------------------------------------------------------------------


def test_cli_json(people: odg.Workbench) -> None:
    root = people.root
    people.config.set("governance.admins", "cli-tester")
    people.config.save()
    out = odg_json(
        "privacy", "budget", "bronze.people", "--consumer", "bi", "--set", "2", "--delta", "1e-6", workspace=root
    )
    assert (out["consumer"], out["epsilon"], out["epsilon_left"], out["source"]) == ("bi", 2.0, 2.0, "set")
    out = odg_json(
        "privacy", "dp", "mean", "bronze.people", "age", "--epsilon", "1", "--bounds=-10,100",
        "--consumer", "bi", workspace=root,
    )  # fmt: skip
    assert out["kind"] == "mean" and -10 <= out["value"] <= 100 and out["bounds"] == [-10, 100]
    assert out["accuracy_text"].startswith("±") and out["budget"]["epsilon_left"] == pytest.approx(1.0)
    out = odg_json(
        "privacy", "dp", "histogram", "bronze.people", "city", "--categories", "SP,RJ", "--epsilon", "0.5",
        "--mechanism", "gaussian", "--consumer", "bi", workspace=root,
    )  # fmt: skip
    assert set(out["value"]) == {"SP", "RJ", OTHER} and out["delta"] == pytest.approx(1e-7)
    refused = run_odg(
        "privacy", "dp", "count", "bronze.people", "--epsilon", "0.9", "--consumer", "bi", "--json",
        workspace=root, check=False,
    )  # fmt: skip
    assert refused.returncode == 1
    error = json.loads(refused.stdout)["error"]
    assert error["type"] == "PrivacyBudgetExceededError"
    assert (error["requested"], error["limit"]) == (0.9, 2.0) and error["spent"] == pytest.approx(1.5)
    listed = odg_json("privacy", "budget", "bronze.people", workspace=root)
    assert [b["consumer"] for b in listed["budgets"]] == ["bi"]
    ledger = odg_json("privacy", "dp", "ledger", "bronze.people", workspace=root)
    assert [q["kind"] for q in ledger["queries"]] == ["mean", "histogram"]
    bad = run_odg(
        "privacy", "dp", "sum", "bronze.people", "city", "--bounds", "0,1", "--json", workspace=root, check=False
    )
    assert bad.returncode == 1 and "numeric column" in json.loads(bad.stdout)["error"]["message"]
    text = run_odg("privacy", "dp", "count", "bronze.people", "--epsilon", "0.1", workspace=root)
    assert "count of bronze.people = " in text.stdout and "at 95%" in text.stdout


def test_importing_stays_light() -> None:
    code = (
        "import sys, odg_workbench, odg_workbench.privacy, odg_workbench.privacy.dp, odg_workbench.cli.privacy_dp\n"
        "heavy = [m for m in ('opendp', 'sqlalchemy', 'pyarrow', 'duckdb', 'sqlglot') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[1])
