"""The sample datasets shipped in ``data/samples/``, their contracts in ``data/contracts/``,
and how to load them into Bronze and check them.

Every file with a known format becomes ``bronze.<file stem>``. Each file is ingested with
a batch id derived from its content hash, so loading the samples again writes nothing
new: the demo is safe to rerun.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

from odg_workbench.errors import WorkspaceError

if TYPE_CHECKING:
    from odg_workbench.governance.promotion import PromotionResult
    from odg_workbench.lakehouse import IngestResult
    from odg_workbench.quality import QualityReport
    from odg_workbench.workspace import Workbench

__all__ = [
    "check_samples",
    "contracts_dir",
    "ingest_samples",
    "promote_samples",
    "sample_contracts",
    "sample_files",
    "samples_dir",
]


def samples_dir() -> Path:
    """The folder holding the sample files (in a checkout: ``data/samples``)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "samples_data", here.parent / "data" / "samples"):
        if candidate.is_dir():
            return candidate
    raise WorkspaceError("the sample data folder is missing; regenerate it with python data/samples/generate.py")


def contracts_dir() -> Path:
    """The folder holding the sample contracts (in a checkout: ``data/contracts``)."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "contracts_data", here.parent / "data" / "contracts"):
        if candidate.is_dir():
            return candidate
    raise WorkspaceError("the sample contracts folder (data/contracts) is missing")


def sample_contracts(folder: Path | None = None) -> dict[str, Path]:
    """``bronze.<name>`` -> its ODCS contract, for every ``<name>.odcs.yaml`` shipped."""
    folder = folder or contracts_dir()
    return {f"bronze.{p.name.split('.', 1)[0]}": p for p in sorted(folder.glob("*.odcs.yaml"))}


def check_samples(wb: Workbench, folder: Path | None = None) -> list[QualityReport]:
    """Check every sample table that has a contract (stored in the quality history)."""
    reports = []
    for table, contract in sample_contracts(folder).items():
        if wb.lakehouse.exists(table):
            reports.append(wb.quality.check(table, contract))
    return reports


def promote_samples(wb: Workbench, folder: Path | None = None) -> list[PromotionResult]:
    """Promote every sample table with a contract to Silver (blocked ones stay in Bronze)."""
    results = []
    for table, contract in sample_contracts(folder).items():
        if wb.lakehouse.exists(table):
            results.append(wb.promote(table, "silver", contract=contract))
    return results


def sample_files(folder: Path | None = None) -> list[Path]:
    from odg_workbench.lakehouse.sources import FORMATS

    folder = folder or samples_dir()
    suffixes = tuple(s for group in FORMATS.values() for s in group)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(suffixes))


def _table_name(path: Path) -> str:
    stem = path.name.split(".", 1)[0].lower().replace("-", "_")
    return f"bronze.{stem}"


def _content_hash(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def ingest_samples(wb: Workbench, folder: Path | None = None) -> list[IngestResult]:
    """Ingest every sample file into ``bronze.<stem>``; already-loaded files are skipped."""
    results = []
    for path in sample_files(folder):
        table = _table_name(path)
        batch = f"sample-{path.name.split('.', 1)[0]}-{_content_hash(path)}"
        results.append(wb.ingest(path, table, batch_id=batch))
    return results
