"""Repository shape and install metadata: conda users get the same dependencies and pins."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"python-duckdb": "duckdb", "ibis-framework-core": "ibis-framework"}


def _name_and_pin(spec: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$", spec)
    assert m, spec
    return m.group(1).lower(), m.group(3).replace(" ", "")


def test_environment_yml_matches_pyproject() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = dict(_name_and_pin(d) for d in project["dependencies"])
    env = yaml.safe_load((REPO / "environment.yml").read_text())
    have: dict[str, str] = {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            for spec in dep["pip"]:
                if not spec.startswith("-e"):
                    name, pin = _name_and_pin(spec)
                    have.setdefault(name, pin)
        else:
            name, pin = _name_and_pin(dep.replace("=", "==", 1) if re.match(r"^[\w\-]+=[^=<>]", dep) else dep)
            have.setdefault(CONDA_NAMES.get(name, name), pin)
    missing = sorted(set(wanted) - set(have))
    assert not missing, f"environment.yml lacks {missing}"
    for name, pin in wanted.items():
        if pin.startswith("=="):
            assert have[name] == pin, f"{name}: pyproject pins {pin}, environment.yml has {have[name]!r}"


def test_repository_shape() -> None:
    for path in (
        "odg_workbench/py.typed",
        "notebooks",
        "recipes",
        "extensions/jupyter",
        "data/samples",
        "tests",
        "benchmarks",
        "pyproject.toml",
        "environment.yml",
        "uv.lock",
        "README.md",
        ".ci/run",
    ):
        assert (REPO / path).exists(), path


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme and "make run" in readme
    ci = (REPO / ".ci/run").read_text()
    assert re.search(r"^make test$", ci, re.MULTILINE)
