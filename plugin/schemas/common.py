"""Field types shared by the schemas: money as decimal strings, ids as integers."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from marshmallow import fields, validate

MONEY_PLACES = Decimal("0.01")


class Money(fields.Decimal):
    """Decimal in, decimal string out (`"156000.00"`); never float."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("places", 2)
        kwargs.setdefault("as_string", True)
        kwargs.setdefault("validate", validate.Range(min=Decimal("0")))
        super().__init__(**kwargs)


def non_negative_int(**kwargs: Any) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=0), **kwargs)
