"""The Jupyter kernel that runs the notebooks: the workbench's own Python.

The default kernel ``odg-workbench`` is a kernelspec in this environment's prefix
(``python -m ipykernel install --sys-prefix --name odg-workbench``, which ``make venv``
runs); when it is missing, or points at a Python that no longer exists (a recreated
virtual environment), it is installed again here, so ``odg pipeline run`` works right
after ``pip install``. A recipe naming another kernel gets it only if it exists.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from odg_workbench.pipelines.recipe import DEFAULT_KERNEL, RecipeError

__all__ = ["ensure_kernel", "install_kernel"]


def install_kernel(name: str = DEFAULT_KERNEL) -> Path:
    """Install a kernelspec running this Python into ``sys.prefix``; returns its folder."""
    from ipykernel.kernelspec import install

    where = install(kernel_name=name, display_name=f"Python ({name})", prefix=sys.prefix)
    return Path(where)


def ensure_kernel(name: str) -> Path:
    """The kernelspec folder of ``name``, installing the default kernel when it is absent or stale."""
    from jupyter_client.kernelspec import KernelSpecManager

    specs = KernelSpecManager().find_kernel_specs()
    folder = specs.get(name)
    if folder is not None and name == DEFAULT_KERNEL:
        try:
            argv = json.loads((Path(folder) / "kernel.json").read_text(encoding="utf-8"))["argv"]
        except (OSError, ValueError, KeyError):
            argv = []
        if not argv or not Path(argv[0]).exists():
            folder = None
    if folder is not None:
        return Path(folder)
    if name == DEFAULT_KERNEL:
        return install_kernel(name)
    raise RecipeError(
        f"kernel {name!r} is not installed; installed kernels: {', '.join(sorted(specs)) or 'none'} "
        f"(install one with `python -m ipykernel install --sys-prefix --name {name}`, "
        f"or use the default kernel {DEFAULT_KERNEL!r})",
        field="kernel",
        expected=sorted(specs),
        found=name,
    )
