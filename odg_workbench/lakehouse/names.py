"""Medallion layers and ``layer.name`` table names."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from odg_workbench.errors import TableNameError

__all__ = ["LAYERS", "Layer", "TableName"]


class Layer(StrEnum):
    """The four medallion layers, each an Iceberg namespace, in promotion order."""

    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"
    PLATINUM = "platinum"

    @property
    def rank(self) -> int:
        return list(Layer).index(self)

    @classmethod
    def parse(cls, value: str | Layer) -> Layer:
        if isinstance(value, Layer):
            return value
        try:
            return cls(value.strip().lower())
        except ValueError:
            raise TableNameError(
                f"unknown layer {value!r}: expected one of {', '.join(layer.value for layer in cls)}",
                field="layer",
                expected=[layer.value for layer in cls],
                found=value,
            ) from None

    def __str__(self) -> str:
        return self.value


LAYERS: tuple[Layer, ...] = tuple(Layer)

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True, order=True)
class TableName:
    """A table of the lakehouse: a layer and a lowercase identifier, written ``layer.name``."""

    layer: Layer
    name: str

    @classmethod
    def parse(cls, value: str | TableName, default_layer: Layer | None = None) -> TableName:
        """Parse ``"bronze.orders"`` (or ``"orders"`` when ``default_layer`` is given)."""
        if isinstance(value, TableName):
            return value
        text = value.strip()
        if "." in text:
            layer_text, _, name = text.partition(".")
        elif default_layer is not None:
            layer_text, name = default_layer.value, text
        else:
            raise TableNameError(
                f"table name {value!r} must be written layer.name, e.g. bronze.{text or 'orders'}",
                field="table",
                found=value,
            )
        layer = Layer.parse(layer_text)
        name = name.strip()
        if not _IDENT.match(name):
            raise TableNameError(
                f"table name {name!r} in {value!r} must be lowercase letters, digits and "
                "underscores, not starting with a digit",
                field="table",
                found=value,
            )
        return cls(layer, name)

    @property
    def identifier(self) -> tuple[str, str]:
        """The pyiceberg identifier ``(namespace, table)``."""
        return (self.layer.value, self.name)

    def __str__(self) -> str:
        return f"{self.layer.value}.{self.name}"
