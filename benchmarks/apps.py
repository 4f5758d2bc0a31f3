"""Benchmark: first paint of each app of ``odg apps`` on the sample workspace.

Run ``.venv/bin/python benchmarks/apps.py`` (``--reps 5``; about two minutes). Needs
Debian's chromium at ``/usr/bin/chromium``. Work files go to ``benchmarks/.work/apps/``
(wiped at the start); figures to stdout and ``benchmarks/results/apps.json``.

Each repetition opens every page in a fresh browser context (no cache), in alternating
order, and measures from navigation start:

* **heading**: the app's ``<h1>`` is visible (marimo's frontend loaded, the kernel started,
  the first cells ran): the first paint a person sees;
* **content**: the app's real workspace content is visible (the slowest cell a person waits
  for: the inbox, the latest quality run, the tables, the scan, the lineage chart).

Peer, in the same run: a one-cell marimo app (a heading) served by ``marimo run
--headless``, the floor any marimo app pays. Ratios are ours / peer (heading).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import log, machine, summary

ROOT = Path(__file__).resolve().parent
WORK = ROOT / ".work" / "apps"
OUTPUT = ROOT / "results" / "apps.json"
BIN = Path(sys.executable).parent
CHROMIUM = "/usr/bin/chromium"

# path, heading, content marker
PAGES = [
    ("cockpit", "Governance cockpit", "Promote silver.orders"),
    ("quality", "Data quality explorer", "Latest run"),
    ("lakehouse", "Lakehouse browser", "Promotions:"),
    ("privacy", "Privacy scanner", "columns with personal data"),
    ("lineage", "Lineage explorer", "upstream"),
]

PEER_APP = """import marimo

app = marimo.App()


@app.cell
def _():
    import marimo as mo

    mo.md("# Hello")
    return


if __name__ == "__main__":
    app.run()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_workspace(root: Path) -> None:
    """The sample workspace: samples in Bronze, checked, orders in Silver, a Gold decision pending."""
    import odg_workbench as odg
    from odg_workbench.samples import check_samples, ingest_samples

    contract = Path(__file__).resolve().parents[1] / "data" / "contracts" / "orders.odcs.yaml"
    with odg.open(root, user="root") as wb:
        wb.config.set("governance.admins", "root")
        wb.config.save()
        wb.raci.set("domain:sales", responsible="rita", accountable="ana")
        ingest_samples(wb)
        check_samples(wb)
        wb.promote(
            "bronze.orders",
            "silver",
            contract=contract,
            transform="SELECT * FROM {source} WHERE total_amount > 0 AND quantity >= 1",
        )
    with odg.open(root, user="rita") as wb:
        result = wb.promote("silver.orders", "gold", contract=contract, domain="sales")
        assert result.status == "pending_decision", result.to_dict()


@contextmanager
def serve(argv: list[str], health: str, log_path: Path) -> Iterator[None]:
    with log_path.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=out, env={**os.environ, "ODG_USER": "ana"})
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(health, timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} did not start: {log_path.read_text()}") from None
                time.sleep(0.3)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def paint(browser: Any, url: str, heading: str, content: str | None) -> tuple[float, float | None, int]:
    """Seconds to the heading and to the content, and the console errors seen."""
    context = browser.new_context(viewport={"width": 1280, "height": 2000})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        start = time.perf_counter()
        page.goto(url)
        page.locator("h1", has_text=heading).wait_for(timeout=120_000)
        first = time.perf_counter() - start
        done = None
        if content is not None:
            page.get_by_text(content).first.wait_for(timeout=120_000)
            done = time.perf_counter() - start
        return first, done, len(errors)
    finally:
        context.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5, help="repetitions per page (default 5)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        log(f"{CHROMIUM} not found: apt-get install chromium")
        return 2
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    log("building the sample workspace")
    started = time.perf_counter()
    build_workspace(WORK / "lake")
    (WORK / "hello.py").write_text(PEER_APP)
    ours_port, peer_port = free_port(), free_port()
    ours, peer = f"http://127.0.0.1:{ours_port}", f"http://127.0.0.1:{peer_port}"
    times: dict[str, dict[str, list[float]]] = {p: {"heading": [], "content": []} for p, _, _ in PAGES}
    times["peer"] = {"heading": [], "content": []}
    errors = 0
    from playwright.sync_api import sync_playwright

    with (
        serve(
            [str(BIN / "odg"), "apps", "-w", str(WORK / "lake"), "--port", str(ours_port)],
            f"{ours}/healthz",
            WORK / "odg-apps.log",
        ),
        serve(
            [str(BIN / "marimo"), "run", str(WORK / "hello.py"), "--headless", "--port", str(peer_port)],
            f"{peer}/",
            WORK / "marimo.log",
        ),
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"])
        # one untimed visit each: the first kernel of a process imports the libraries
        for path, heading, content in PAGES:
            paint(browser, f"{ours}/{path}/", heading, content)
        paint(browser, f"{peer}/", "Hello", None)
        order = [*PAGES, ("peer", "Hello", None)]
        for rep in range(args.reps):
            for path, heading, content in order if rep % 2 == 0 else list(reversed(order)):
                url = f"{peer}/" if path == "peer" else f"{ours}/{path}/"
                first, done, errs = paint(browser, url, heading, content)
                errors += errs
                times[path]["heading"].append(first)
                if done is not None:
                    times[path]["content"].append(done)
            log(f"repetition {rep + 1}/{args.reps} done")
        browser.close()
    peer_heading = summary(times["peer"]["heading"])
    results: dict[str, Any] = {
        "machine": machine(),
        "config": {"reps": args.reps, "browser": CHROMIUM},
        "peer": {"heading": peer_heading},
        "apps": {},
        "console_errors": errors,
        "total_s": time.perf_counter() - started,
    }
    print(f"\n{'app':12s} {'heading (median)':>18s} {'content (median)':>18s} {'heading / peer':>15s}")
    for path, _, _ in PAGES:
        h, c = summary(times[path]["heading"]), summary(times[path]["content"])
        r = h["median_s"] / peer_heading["median_s"]
        results["apps"][path] = {"heading": h, "content": c, "heading_over_peer": r}
        print(f"{path:12s} {h['median_s'] * 1000:15.0f} ms {c['median_s'] * 1000:15.0f} ms {r:14.2f}x")
    print(f"{'peer':12s} {peer_heading['median_s'] * 1000:15.0f} ms {'-':>18s} {'1.00x':>15s}")
    print(f"console errors: {errors}")
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(json.dumps(results, indent=2) + "\n")
    log(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
