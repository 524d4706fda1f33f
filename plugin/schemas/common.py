"""Field types shared by the schemas: money as decimal strings, ids as integers, and the
base of every input schema, whose messages are written for the person at the form."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from marshmallow import Schema, fields, validate

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


# What a field is called in a message, when its name does not say it ("influencer_id").
NOUNS = {
    "influencer_id": "a creator",
    "discount_code_id": "a discount code",
    "platform": "a platform",
    "content_type": "a content type",
    "category": "a category",
    "incurred_on": "the date",
    "posted_at": "when it was posted",
    "code": "the code",
    "name": "a name",
    "handle": "the handle",
    "percent_off": "the percent off",
    "hours": "the hours",
    "amount": "the amount",
    "evidence_order": "the order of the rules",
    "evidence_order_item": "code, click or survey",
}
# marshmallow's messages by kind of field, as a person reads them at the form.
TYPE_MESSAGES: tuple[tuple[type[fields.Field], dict[str, str]], ...] = (
    (fields.Integer, {"invalid": "Enter a whole number, like 1200.", "too_large": "That number is too large."}),
    (
        fields.Decimal,
        {
            "invalid": "Enter a number, like 12.50.",
            "special": "Enter a number, like 12.50.",
            "too_large": "That number is too large.",
        },
    ),
    (fields.Date, {"invalid": "Enter a date, like 2026-03-31."}),
    (
        fields.DateTime,
        {"invalid": "Enter a date and time, like 2026-03-31 18:30.", "invalid_awareness": "Enter a date and time."},
    ),
    (fields.Boolean, {"invalid": "Choose yes or no."}),
    (fields.List, {"invalid": "Give a list of values."}),
    (fields.Nested, {"type": "Give these values as an object."}),
    (fields.String, {"invalid": "Enter text."}),
)


def _noun(name: str) -> str:
    return NOUNS.get(name) or "the " + name.replace("_", " ")


def _is_choice(field: fields.Field, name: str) -> bool:
    return name.endswith("_id") or any(isinstance(v, validate.OneOf) for v in field.validators)


def _number(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def person_validator(validator: Any, name: str) -> Any:
    """A copy of marshmallow's range, length, choice, email or URL check that says what to enter
    instead; a check that set its own message keeps it."""
    text = None
    if isinstance(validator, validate.Range) and validator.error is None:
        low, high = validator.min, validator.max
        if low is not None and high is not None:
            text = f"Enter a number from {_number(low)} to {_number(high)}."
            if not validator.min_inclusive:
                text = f"Enter a number above {_number(low)}, up to {_number(high)}."
        elif low is not None:
            text = f"Enter {_number(low)} or more." if validator.min_inclusive else f"Enter more than {_number(low)}."
        else:
            text = f"Enter {_number(high)} or less."
    elif isinstance(validator, validate.Length) and validator.error is None and validator.max is not None:
        text = f"Use at most {validator.max:,} characters."
        if validator.min:  # one message for too short (empty) and too long
            text = f"Enter {_noun(name)} (up to {validator.max:,} characters)."
    elif isinstance(validator, validate.OneOf) and validator.error == validate.OneOf.default_message:
        text = f"Choose {_noun(name)} from the list."
    elif isinstance(validator, validate.Email) and validator.error == validate.Email.default_message:
        text = "Enter an email address, like name@example.com."
    elif isinstance(validator, validate.URL) and validator.error == validate.URL.default_message:
        text = "Enter the full address, starting with https://"
    if text is None:
        return validator
    humane = copy.copy(validator)
    humane.error = text
    return humane


class InputSchema(Schema):
    """What a person sends from a form (and a script through the API): every message says what
    to enter, in words, instead of marshmallow's defaults ("Missing data for required field.").
    A message a field or validator sets itself is kept."""

    error_messages = {"unknown": "This field is not accepted here.", "type": "Send the values as a JSON object."}

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        defaults = _defaults(type(field_obj))
        messages = field_obj.error_messages
        verb = "Choose" if _is_choice(field_obj, field_name) else "Enter"
        wanted = {"required": f"{verb} {_noun(field_name)}.", "null": f"{verb} {_noun(field_name)}."}
        for kind_of_field, texts in TYPE_MESSAGES:
            if isinstance(field_obj, kind_of_field):
                wanted = {**texts, **wanted}
                break
        # A new dict: a bound field is a shallow copy of the class's, sharing its messages.
        field_obj.error_messages = {
            key: wanted[key] if key in wanted and text == defaults.get(key) else text for key, text in messages.items()
        }
        field_obj.validators = [person_validator(v, field_name) for v in field_obj.validators]
        if isinstance(field_obj, fields.List):  # evidence_order's rules: each item is checked too
            field_obj.inner = copy.copy(field_obj.inner)
            field_obj.inner.validators = [person_validator(v, field_name + "_item") for v in field_obj.inner.validators]


def _defaults(cls: type[fields.Field]) -> dict[str, str]:
    """marshmallow's own messages for a field class (what a field that set none has)."""
    merged: dict[str, str] = {}
    for klass in reversed(cls.__mro__):
        merged.update(getattr(klass, "default_error_messages", {}))
    return merged
