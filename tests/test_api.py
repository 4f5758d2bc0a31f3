"""The package's public surface and its import cost."""

from __future__ import annotations

import subprocess
import sys

import odg_workbench
import odg_workbench.lakehouse

HEAVY = ("pyiceberg", "duckdb", "pyarrow", "polars", "pandas", "ibis", "sqlalchemy", "sqlglot")


def test_all_matches_public_names() -> None:
    for module in (odg_workbench, odg_workbench.lakehouse):
        public = {n for n in dir(module) if not n.startswith("_")} - {"annotations", "TYPE_CHECKING", "Any"}
        public -= {n for n in public if type(getattr(module, n)).__name__ == "module"}
        assert set(module.__all__) - {"__version__"} == public, module.__name__


def test_every_exported_name_resolves() -> None:
    for name in odg_workbench.__all__:
        assert getattr(odg_workbench, name) is not None


def _modules_after(code: str) -> set[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {m.split(".")[0] for m in out.split()}


def test_import_loads_no_heavy_library() -> None:
    loaded = _modules_after("import odg_workbench; odg_workbench.open; odg_workbench.Workbench")
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_cli_help_loads_no_heavy_library() -> None:
    code = "import sys; sys.argv=['odg','--help']\nfrom odg_workbench.cli import main\ntry:\n    main()\nexcept SystemExit:\n    pass"
    loaded = _modules_after(code)
    assert not loaded & set(HEAVY), loaded & set(HEAVY)
