"""``odg privacy``: PII scans, masking, classification and differential-privacy queries.

The group is assembled from one module per capability (``privacy_scan``, ``privacy_mask``,
``privacy_dp``), each a thin adapter over :mod:`odg_workbench.privacy`.
"""

from __future__ import annotations

import typer

from odg_workbench.cli import privacy_dp, privacy_mask, privacy_scan

privacy_app = typer.Typer(
    name="privacy",
    help="Personal data: detection, masking, classification, differential privacy.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    privacy_scan.register(privacy_app)
    privacy_mask.register(privacy_app)
    privacy_dp.register(privacy_app)
    app.add_typer(privacy_app)
