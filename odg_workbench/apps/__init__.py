"""The workbench's marimo apps (governance cockpit, quality explorer, lakehouse browser ...).

``odg apps`` serves them all (:mod:`odg_workbench.apps.server`); each one is also a plain
marimo notebook file: ``marimo run odg_workbench/apps/notebooks/cockpit.py``. What they show comes
from :mod:`odg_workbench.apps.views`.
"""
