"""The documentation's Python examples run, in order, and print what they claim."""

from __future__ import annotations

import contextlib
import io
import os
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)


def _blocks(doc: str) -> list[str]:
    return BLOCK.findall((REPO / doc).read_text())


DOCS = [*sorted(str(p.relative_to(REPO)) for p in (REPO / "docs").glob("*.md")), "README.md"]


@pytest.mark.parametrize("doc", DOCS)
def test_python_examples_run(doc: str, tmp_path: Path) -> None:
    (tmp_path / "data").symlink_to(REPO / "data")
    namespace: dict[str, object] = {}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for i, block in enumerate(_blocks(doc)):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(block, f"{doc} block {i + 1}", "exec"), namespace)
            _check_claims(block, out.getvalue(), f"{doc} block {i + 1}")
    finally:
        os.chdir(cwd)
        wb = namespace.get("wb")
        if wb is not None:
            wb.close()  # type: ignore[attr-defined]


def _check_claims(block: str, printed: str, where: str) -> None:
    """A ``print(...)  # value`` comment is a claim: that value must appear in the output."""
    for line in block.splitlines():
        m = re.match(r"\s*print\(.*\)\s+# (.+)$", line)
        if m:
            claim = m.group(1).strip()
            assert claim in printed, f"{where}: expected {claim!r} in output:\n{printed}"
