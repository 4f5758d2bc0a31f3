"""The marimo notebooks of the apps (each a plain marimo file: ``marimo run FILE``)."""
