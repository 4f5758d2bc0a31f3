"""The marimo apps: what they show (views) and a real browser against ``odg apps``.

The browser tests start ``odg apps`` as a subprocess on a free port and drive Debian's
chromium through Playwright (``.ci/run`` installs it). Screenshots go to
``test-artifacts/apps/`` (or ``$ODG_TEST_ARTIFACTS/apps``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import odg_workbench as odg
from odg_workbench.apps import views
from odg_workbench.governance.policy import PermissionDeniedError
from odg_workbench.samples import check_samples, ingest_samples
from tests.conftest import ODG, REPO, free_port
from tests.test_promotion import small_contract

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(os.environ.get("ODG_TEST_ARTIFACTS", REPO / "test-artifacts")) / "apps"


def governed_workspace(root: Path) -> str:
    """Sample data in Bronze with quality runs, and a Silver -> Gold decision pending for ann."""
    with odg.open(root, user="root") as admin:
        admin.config.set("governance.admins", "root")
        admin.config.save()
        admin.raci.set("dataset:silver.items", responsible="rita", accountable="ann", veto="vic")
        ingest_samples(admin)
        check_samples(admin)
        admin.ingest(pa.table({"id": [1, 2, 3], "qty": [1, 2, 3]}), "bronze.items")
        assert admin.promote("bronze.items", "silver", contract=small_contract()).status == "promoted"
    with odg.open(root, user="rita") as rita:
        pending = rita.promote(
            "silver.items", "gold", contract=small_contract(), transform="SELECT id, qty FROM {source}"
        )
    assert pending.decision_id is not None
    return pending.decision_id


@pytest.fixture(scope="module")
def governed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = tmp_path_factory.mktemp("apps") / "lake"
    return root, governed_workspace(root)


# -- views: the data behind the apps ------------------------------------------------------------


@pytest.mark.xdist_group("apps")
def test_views_show_the_workspace_tables_snapshots_and_quality(governed: tuple[Path, str]) -> None:
    root, _ = governed
    with odg.open(root) as wb:
        tables = {t["table"]: t for t in views.layer_tables(wb)}
        assert tables["bronze.orders"]["rows"] == 20000 and tables["silver.items"]["layer"] == "silver"
        assert tables["bronze.orders"]["quality_verdict"] in ("pass", "fail")
        assert tables["bronze.items"]["quality_score"] is not None  # the promotion's gate run
        snaps = views.snapshots(wb, "bronze.orders")
        assert snaps[0]["snapshot_id"] == wb.table("bronze.orders").current_snapshot_id
        # 64-bit snapshot ids would be rounded by a browser: the apps' frames carry them as text
        shown = views.frame(snaps)
        assert shown["snapshot_id"][0] == str(snaps[0]["snapshot_id"])
        assert views.preview(wb, "bronze.orders", limit=5).height == 5
        runs = views.quality_runs(wb, "bronze.orders")
        assert runs.height >= 1 and "completeness" in runs.columns
        report = views.decision_detail(wb, wb.decisions.list()[0].id)["quality_report"]
        chart = views.dimension_chart(report).to_dict()
        assert chart["layer"][0]["mark"]["type"] == "bar"
        assert views.score_history_chart(runs).to_dict()["mark"]["type"] == "line"


def test_views_act_on_decisions_through_the_policy_engine(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    decision = governed_workspace_small(root)
    with odg.open(root, user="vic") as vic, pytest.raises(ValueError, match="needs a reason"):
        views.act_on_decision(vic, decision, "veto", "  ")
    with odg.open(root, user="mallory") as mallory, pytest.raises(PermissionDeniedError):
        views.act_on_decision(mallory, decision, "approve")
    with odg.open(root, user="ann") as ann:
        assert views.act_on_decision(ann, decision, "approve")["status"] == "APPROVED"
        assert ann.table("gold.items").count() == 3
        assert views.decisions_inbox(ann) == []  # nothing open any more
        assert views.audit_status(ann)["ok"] is True


def governed_workspace_small(root: Path) -> str:
    with odg.open(root, user="root") as admin:
        admin.config.set("governance.admins", "root")
        admin.config.save()
        admin.raci.set("dataset:silver.items", responsible="rita", accountable="ann", veto="vic")
        admin.ingest(pa.table({"id": [1, 2, 3], "qty": [1, 2, 3]}), "bronze.items")
        admin.promote("bronze.items", "silver", contract=small_contract())
    with odg.open(root, user="rita") as rita:
        pending = rita.promote(
            "silver.items", "gold", contract=small_contract(), transform="SELECT id, qty FROM {source}"
        )
    assert pending.decision_id is not None
    return pending.decision_id


def test_every_shipped_app_is_a_valid_marimo_notebook() -> None:
    from odg_workbench.apps.server import APPS

    shipped = [a for a in APPS if a.source.is_file()]
    assert {"cockpit", "quality", "lakehouse", "privacy", "lineage"} == {a.path for a in shipped}
    proc = subprocess.run(
        [str(Path(sys.executable).with_name("marimo")), "check", *[str(a.source) for a in shipped]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


# -- a real browser against `odg apps` ----------------------------------------------------------


def _serve(root: Path, user: str, *extra: str) -> Iterator[str]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("ODG_REQUIRE_SERVERS"):
            pytest.fail(f"{CHROMIUM} is required (ODG_REQUIRE_SERVERS=1); .ci/run installs it with apt")
        pytest.skip(f"{CHROMIUM} not installed (apt install chromium)")
    port = free_port()
    env = {**os.environ, "ODG_USER": user}
    log_path = root.parent / f"odg-apps-{port}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [ODG, "apps", "--workspace", str(root), "--port", str(port), *extra], env=env, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except urllib.error.HTTPError:  # answered (401 behind a token): it is up
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"odg apps did not start:\n{log_path.read_text()}") from None
                time.sleep(0.3)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def server(governed: tuple[Path, str]) -> Iterator[str]:
    yield from _serve(governed[0], "ann")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


def _open(browser: Any, url: str) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 2200})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return page, errors


def _shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.xdist_group("apps")
@pytest.mark.parametrize(
    ("app", "heading", "content"),
    [
        ("cockpit", "Governance cockpit", "Promote silver.items"),
        ("quality", "Data quality explorer", "Latest run"),
        ("lakehouse", "Lakehouse browser", "bronze.orders"),
        ("privacy", "Privacy scanner", "columns with personal data"),
        ("lineage", "Lineage explorer", "silver.items: 3 upstream"),
    ],
)
def test_each_app_loads_real_content_without_console_errors(
    server: str, browser: Any, app: str, heading: str, content: str
) -> None:
    page, errors = _open(browser, f"{server}/{app}/")
    try:
        page.locator("h1", has_text=heading).wait_for(timeout=90_000)
        page.get_by_text(content).first.wait_for(timeout=90_000)
        page.wait_for_timeout(1500)  # let late cells finish
        assert page.get_by_text("An internal error occurred").count() == 0
        _shot(page, app)
        assert errors == []
    finally:
        page.close()


@pytest.mark.xdist_group("apps")
def test_the_server_answers_graphql_queries(server: str, governed: tuple[Path, str]) -> None:
    import json

    query = 'query($id: ID!) { datasets(layer: "silver") { name rows } decision(id: $id) { status } }'
    request = urllib.request.Request(
        f"{server}/api/v1/graphql",
        data=json.dumps({"query": query, "variables": {"id": governed[1]}}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as r:
        answer = json.load(r)
    assert "errors" not in answer, answer
    with odg.open(governed[0]) as wb:
        silver = {t.table: t.rows for t in wb.tables("silver")}
        status = wb.decisions.get(governed[1]).status.value
    assert {d["name"]: d["rows"] for d in answer["data"]["datasets"]} == silver
    assert answer["data"]["decision"]["status"] == status


@pytest.mark.xdist_group("apps")
def test_the_index_lists_the_apps(server: str, browser: Any) -> None:
    page, errors = _open(browser, f"{server}/")
    try:
        links = page.locator("#apps a").all_inner_texts()
        assert set(links) == {
            "Governance cockpit",
            "Data quality explorer",
            "Lakehouse browser",
            "Privacy scanner",
            "Lineage explorer",
        }
        assert errors == []
    finally:
        page.close()


@pytest.mark.xdist_group("apps")
def test_the_cockpit_approves_a_decision_and_the_library_sees_it(
    server: str, browser: Any, governed: tuple[Path, str]
) -> None:
    root, decision_id = governed
    page, errors = _open(browser, f"{server}/cockpit/")
    try:
        page.get_by_text("Promote silver.items").first.wait_for(timeout=90_000)
        page.get_by_role("button", name="Submit").click()
        page.get_by_text(f"Decision {decision_id} is now APPROVED").wait_for(timeout=90_000)
        _shot(page, "cockpit-approved")
        assert errors == []
    finally:
        page.close()
    with odg.open(root) as wb:
        assert wb.decisions.get(decision_id).status.value == "APPROVED"
        assert wb.table("gold.items").count() == 3  # the approval ran the promotion


@pytest.mark.xdist_group("apps")
def test_each_app_also_runs_alone_with_marimo_run(governed: tuple[Path, str], browser: Any) -> None:
    """`marimo run FILE` serves one app; the workspace comes from $ODG_HOME."""
    from odg_workbench.apps.server import APPS

    app = next(a for a in APPS if a.path == "lakehouse")
    port = free_port()
    log_path = governed[0].parent / f"marimo-run-{port}.log"
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(Path(sys.executable).with_name("marimo")), "run", str(app.source), "--headless", "--port", str(port)],
            env={**os.environ, "ODG_HOME": str(governed[0])},
            stdout=log,
            stderr=log,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"marimo run did not start:\n{log_path.read_text()}") from None
                time.sleep(0.3)
        page, errors = _open(browser, f"http://127.0.0.1:{port}/")
        try:
            page.locator("h1", has_text="Lakehouse browser").wait_for(timeout=90_000)
            page.get_by_text("silver.items").first.wait_for(timeout=90_000)
            assert errors == []
        finally:
            page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)


@pytest.mark.xdist_group("apps")
def test_a_token_guards_pages_graphql_and_websockets(governed: tuple[Path, str], browser: Any) -> None:
    import json

    token = "s3cret-token-for-the-test"
    for base in _serve(governed[0], "ann", "--token", token):
        for url in (f"{base}/", f"{base}/cockpit/", f"{base}/api/v1/graphql?query=%7Bdatasets%7Bname%7D%7D"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url, timeout=30)
            assert refused.value.code == 401
        with pytest.raises(urllib.error.HTTPError) as wrong:
            urllib.request.urlopen(f"{base}/?token=not-{token}", timeout=30)
        assert wrong.value.code == 401
        request = urllib.request.Request(
            f"{base}/api/v1/graphql",
            data=json.dumps({"query": "{ datasets { name } }"}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=60) as r:
            assert "bronze.orders" in {d["name"] for d in json.load(r)["data"]["datasets"]}
        # a browser given the token once keeps it in a cookie: the app and its websocket work
        page, errors = _open(browser, f"{base}/lakehouse/?token={token}")
        try:
            page.get_by_text("bronze.orders").first.wait_for(timeout=90_000)
            assert errors == []
        finally:
            page.close()


@pytest.mark.xdist_group("apps")
def test_an_empty_workspace_says_how_to_start(tmp_path: Path, browser: Any) -> None:
    root = tmp_path / "empty"
    odg.open(root).close()
    for base in _serve(root, "ann"):
        page, errors = _open(browser, f"{base}/lakehouse/")
        try:
            page.get_by_text("This workspace has no tables yet").wait_for(timeout=90_000)
            _shot(page, "empty-workspace")
            assert errors == []
        finally:
            page.close()


def test_only_loopback_hosts_are_served_without_a_token() -> None:
    from odg_workbench.apps.server import is_loopback

    assert all(is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.10", "example.org"))


def test_odg_apps_is_listed_in_the_cli_help() -> None:
    out = subprocess.run([ODG, "apps", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and "--port" in out.stdout
