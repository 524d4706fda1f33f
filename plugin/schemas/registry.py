"""What the creator registry accepts and returns: creators, campaigns, discount codes,
referral links, costs and posts. Inputs and outputs are separate schemas so the
OpenAPI document shows each side as it is."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates, validates_schema

from models import CONTENT_TYPES, COST_CATEGORIES, PLATFORMS
from plugin.schemas.common import InputSchema, Money, non_negative_int

HANDLE_RE = re.compile(r"^[\w.\-]{1,100}$")
SLUG_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{2,63}$")
# A post "in the future" by less than this is clock skew between the merchant's device and us.
POSTED_AT_SKEW = timedelta(minutes=5)


class Handle(fields.String):
    """A creator's handle as they write it, without the leading '@' ("@maya.k" -> "maya.k")."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip().lstrip("@")
        if not HANDLE_RE.match(text):
            raise ValidationError("Use letters, digits, dots, dashes or underscores (up to 100), like @anna.lee.")
        return text


class StorePath(fields.String):
    """A path on the merchant's own store ("/products/serum?variant=1"): never another host."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs).strip()
        if not is_store_path(text):
            raise ValidationError("Enter a page of your store, starting with /, like /products/serum.")
        return text


def is_store_path(text: str) -> bool:
    if not text.startswith("/") or text.startswith("//") or len(text) > 2048:
        return False
    if "\\" in text or any(ord(ch) < 0x21 or ord(ch) == 0x7F for ch in text):
        return False
    parts = urlsplit(text)
    return not parts.scheme and not parts.netloc


def _name(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


def _not_blank(value: str) -> None:
    if value and not value.strip():  # an empty one already fails its length
        raise ValidationError("Enter more than spaces.")


def _given_name(max_length: int, **kwargs: Any) -> fields.String:
    """A name that must say something: not empty, not only spaces."""
    return fields.String(validate=[validate.Length(min=1, max=max_length), _not_blank], **kwargs)


class QuerySchema(Schema):
    """Query strings: other parameters (the session token as ?id_token=, a cache buster) pass by."""

    class Meta:
        unknown = EXCLUDE


# --- creators and campaigns -----------------------------------------------------------


class InfluencerInputSchema(InputSchema):
    name = _given_name(200, required=True)
    handle = Handle(required=True)
    platform = fields.String(required=True, validate=validate.OneOf(PLATFORMS))
    followers = non_negative_int()
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    campaign = _name(120, allow_none=True, metadata={"description": "campaign name; created on first use"})
    notes = fields.String(allow_none=True, validate=validate.Length(max=10000))
    commission_rate = fields.Decimal(
        places=4,
        as_string=True,
        allow_none=True,
        validate=validate.Range(min=Decimal(0), max=Decimal(1)),
        metadata={"description": "share of attributed net sales paid as commission (0.1 = 10 %)"},
    )
    payout_email = fields.Email(
        allow_none=True,
        validate=validate.Length(max=254),
        metadata={"description": "where PayPal and Wise payouts go; a creator without one is left out of payout files"},
    )
    shopify_customer_id = fields.Integer(
        strict=True,
        allow_none=True,
        validate=validate.Range(min=1, max=2**63 - 1),
        metadata={"description": "the creator's Shopify customer, credited when a payout is paid in store credit"},
    )


class InfluencerUpdateSchema(InfluencerInputSchema):
    archived = fields.Boolean(metadata={"description": "false restores an archived creator"})


class FollowerSnapshotSchema(Schema):
    followers = fields.Integer()
    recorded_at = fields.DateTime()


class InfluencerSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    handle = fields.String()
    platform = fields.String()
    followers = fields.Integer()
    email = fields.String(allow_none=True)
    campaign = fields.String(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    notes = fields.String(allow_none=True)
    commission_rate = fields.Decimal(places=4, as_string=True, allow_none=True)
    payout_email = fields.String(allow_none=True)
    shopify_customer_id = fields.Integer(allow_none=True)
    archived = fields.Boolean()
    archived_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    followers_change_30d = fields.Integer(metadata={"description": "followers gained over 30 days"})
    followers_growth_30d = fields.Float(
        allow_none=True,
        metadata={"description": "that gain as a fraction of the count 30 days ago (null when it was 0)"},
    )
    followers_history = fields.List(
        fields.Nested(FollowerSnapshotSchema),
        metadata={"description": "on GET of one creator: every change, oldest first"},
    )


class InfluencerListSchema(Schema):
    influencers = fields.List(fields.Nested(InfluencerSchema))


class ArchivedQuerySchema(QuerySchema):
    archived = fields.String(
        load_default="false",
        validate=validate.OneOf(("false", "true", "all")),
        metadata={"description": "false (default): active only; true: archived only; all"},
    )


class InfluencerQuerySchema(ArchivedQuerySchema):
    campaign_id = fields.Integer()
    platform = fields.String(validate=validate.OneOf(PLATFORMS))
    sort = fields.String(
        load_default="name",
        validate=validate.OneOf(("name", "rising")),
        metadata={"description": "name, or rising: fastest follower growth over 30 days first"},
    )


class CampaignInputSchema(InputSchema):
    name = _given_name(120, required=True)


class CampaignUpdateSchema(InputSchema):
    name = _given_name(120)
    archived = fields.Boolean(metadata={"description": "true archives the campaign, false restores it"})

    @validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ValidationError("Give a new name, or archive or restore the campaign.", "_schema")


class CampaignQuerySchema(ArchivedQuerySchema):
    pass


class CampaignSchema(Schema):
    id = fields.Integer()
    name = fields.String()
    influencers = fields.Integer(metadata={"description": "creators in this campaign"})
    archived = fields.Boolean()
    archived_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


class CampaignListSchema(Schema):
    campaigns = fields.List(fields.Nested(CampaignSchema))


# --- discount codes and referral links --------------------------------------------------

# A space or a "%" in a code ("JADE 20%") is the offer pasted in place of the code: customers
# cannot type it reliably at checkout and it breaks where the code is shared as a link, so it is
# refused at the field, whether the app creates the code in Shopify or registers it.


def discount_code_problem(value: str) -> str | None:
    """What is wrong with a discount code as typed (surrounding spaces are trimmed), or None."""
    code = value.strip()
    if not code:
        return "Enter the code customers type at checkout, like JADE20."
    refused = [what for what, found in (("spaces", any(ch.isspace() for ch in code)), ("“%”", "%" in code)) if found]
    if refused:
        return f"A discount code can't contain {' or '.join(refused)}: customers type it as one word, like JADE20."
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in code):
        return "Remove the invisible control characters from the code."
    return None


class DiscountCodeInputSchema(InputSchema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=255))
    create_in_shopify = fields.Boolean(load_default=True)
    percent_off = fields.Decimal(
        places=2, as_string=True, validate=validate.Range(min=Decimal(0), max=Decimal(100), min_inclusive=False)
    )
    starts_at = fields.AwareDateTime(default_timezone=timezone.utc)
    usage_limit = fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=1))
    once_per_customer = fields.Boolean()

    @validates("code")
    def _code_shape(self, value: str, **_: Any) -> None:
        problem = discount_code_problem(value)
        if problem:
            raise ValidationError(problem)

    @validates_schema
    def _shopify_options(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("create_in_shopify", True):
            if data.get("percent_off") is None:
                raise ValidationError("Enter the percent off: Shopify needs it to create the code.", "percent_off")
            return
        extra = [k for k in ("starts_at", "usage_limit", "once_per_customer") if k in data]
        if extra:
            raise ValidationError({k: ["Only used when the app creates the code in Shopify."] for k in extra})


class DiscountCodeUpdateSchema(InputSchema):
    influencer_id = fields.Integer(
        required=True, strict=True, metadata={"description": "move the code to another creator"}
    )


class DiscountCodeSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    influencer_id = fields.Integer()
    influencer = fields.String(metadata={"description": "the creator's name"})
    percent_off = fields.Decimal(places=2, as_string=True, allow_none=True)
    shopify_discount_id = fields.String(allow_none=True)
    share_url = fields.String(metadata={"description": "https://<shop>/discount/<CODE>?redirect=/"})
    created_at = fields.DateTime()


class DiscountCodeListSchema(Schema):
    codes = fields.List(fields.Nested(DiscountCodeSchema))


class CreatorFilterSchema(QuerySchema):
    influencer_id = fields.Integer()


class ReferralLinkInputSchema(InputSchema):
    slug = fields.String(
        validate=validate.Regexp(
            SLUG_RE, error="Use 3 to 64 letters, digits, dashes or underscores, starting with a letter or digit."
        )
    )
    destination = StorePath(load_default="/")
    discount_code_id = fields.Integer(
        strict=True,
        allow_none=True,
        metadata={"description": "go through the code's /discount/ URL so the code applies automatically"},
    )


class ReferralLinkUpdateSchema(InputSchema):
    destination = StorePath()
    discount_code_id = fields.Integer(strict=True, allow_none=True)


class ReferralLinkSchema(Schema):
    id = fields.Integer()
    slug = fields.String()
    url = fields.String(metadata={"description": "the public link: <app>/r/<slug>"})
    qr_svg_url = fields.String()
    qr_png_url = fields.String()
    destination = fields.String()
    influencer_id = fields.Integer()
    discount_code_id = fields.Integer(allow_none=True)
    discount_code = fields.String(allow_none=True)
    clicks = fields.Integer(metadata={"description": "counted clicks (bots and repeats excluded)"})
    created_at = fields.DateTime()


class ReferralLinkListSchema(Schema):
    links = fields.List(fields.Nested(ReferralLinkSchema))


class QrQuerySchema(QuerySchema):
    scale = fields.Integer(
        load_default=10,
        validate=validate.Range(min=1, max=40),
        metadata={"description": "pixels per module (PNG) or units (SVG)"},
    )
    download = fields.Boolean(load_default=False)


# --- costs ---------------------------------------------------------------------------


class CostInputSchema(InputSchema):
    category = fields.String(required=True, validate=validate.OneOf(COST_CATEGORIES))
    amount = Money(allow_none=True)
    hours = fields.Decimal(
        places=2, as_string=True, allow_none=True, validate=validate.Range(min=Decimal(0), max=Decimal("99999.99"))
    )
    hourly_rate = Money(allow_none=True, metadata={"description": "default: the shop's hourly_rate"})
    incurred_on = fields.Date(required=True)
    influencer_id = fields.Integer(strict=True, allow_none=True)
    campaign = _name(120, allow_none=True, metadata={"description": "campaign name; created on first use"})
    note = fields.String(allow_none=True, validate=validate.Length(max=10000))


def check_cost_pricing(data: dict[str, Any], given: set[str]) -> None:
    """management_time is priced as hours × rate; every other category is an amount."""
    if data.get("category") == "management_time":
        errors = {}
        if data.get("hours") is None:
            errors["hours"] = ["Enter the hours: management time costs hours × hourly rate."]
        if "amount" in given and data.get("amount") is not None:
            errors["amount"] = ["Management time costs hours × hourly rate: leave the amount empty and enter hours."]
        if errors:
            raise ValidationError(errors)
        return
    errors = {}
    if data.get("amount") is None:
        errors["amount"] = ["Enter the amount (for your team's time, choose Management time and enter hours)."]
    for key in ("hours", "hourly_rate"):
        if key in given and data.get(key) is not None:
            errors[key] = ["Only for management time: choose that category, or leave this empty."]
    if errors:
        raise ValidationError(errors)


class CostSchema(Schema):
    id = fields.Integer()
    category = fields.String()
    amount = Money()
    hours = fields.Decimal(places=2, as_string=True, allow_none=True)
    hourly_rate = Money(allow_none=True)
    incurred_on = fields.Date()
    influencer_id = fields.Integer(allow_none=True)
    campaign = fields.String(allow_none=True)
    campaign_id = fields.Integer(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()


class CostListSchema(Schema):
    costs = fields.List(fields.Nested(CostSchema))
    total = Money(metadata={"description": "sum of the listed amounts"})


class CostQuerySchema(QuerySchema):
    influencer_id = fields.Integer()
    campaign_id = fields.Integer()
    category = fields.String(validate=validate.OneOf(COST_CATEGORIES))
    from_ = fields.Date(data_key="from")
    to = fields.Date()


# --- posts ---------------------------------------------------------------------------

POST_COUNTS = ("followers", "impressions", "reach", "likes", "comments", "shares", "saves")


class PostInputSchema(InputSchema):
    influencer_id = fields.Integer(required=True, strict=True)
    platform = fields.String(required=True, validate=validate.OneOf(PLATFORMS))
    content_type = fields.String(required=True, validate=validate.OneOf(CONTENT_TYPES))
    posted_at = fields.AwareDateTime(
        required=True, default_timezone=timezone.utc, metadata={"description": "ISO 8601; without an offset it is UTC"}
    )
    url = fields.Url(allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=2048))
    followers = non_negative_int(metadata={"description": "default: the creator's followers now"})
    impressions = non_negative_int()
    reach = non_negative_int()
    likes = non_negative_int()
    comments = non_negative_int()
    shares = non_negative_int()
    saves = non_negative_int()

    @validates("posted_at")
    def _not_in_future(self, value: datetime, **_: Any) -> None:
        if value > datetime.now(timezone.utc) + POSTED_AT_SKEW:
            raise ValidationError("The post date is in the future: enter when it was posted.")


def post_import_schema(zone: tzinfo) -> PostInputSchema:
    """PostInputSchema for a CSV import: a time without an offset is the shop's local time, as
    a spreadsheet holds it (the JSON API's is UTC, as the page's form sends it)."""
    schema = PostInputSchema()
    posted_at = schema.fields["posted_at"]
    assert isinstance(posted_at, fields.AwareDateTime)
    posted_at.default_timezone = zone
    return schema


class PostSchema(Schema):
    id = fields.Integer()
    influencer_id = fields.Integer()
    platform = fields.String()
    content_type = fields.String()
    posted_at = fields.DateTime()
    url = fields.String(allow_none=True)
    followers = fields.Integer()
    impressions = fields.Integer()
    reach = fields.Integer()
    likes = fields.Integer()
    comments = fields.Integer()
    shares = fields.Integer()
    saves = fields.Integer()
    engagements = fields.Integer(metadata={"description": "likes + comments + shares + saves"})
    created_at = fields.DateTime()


class PostListSchema(Schema):
    posts = fields.List(fields.Nested(PostSchema))


class PostQuerySchema(QuerySchema):
    influencer_id = fields.Integer()
    platform = fields.String(validate=validate.OneOf(PLATFORMS))
    content_type = fields.String(validate=validate.OneOf(CONTENT_TYPES))
    from_ = fields.Date(data_key="from")
    to = fields.Date()


class ImportRowErrorSchema(Schema):
    line = fields.Integer(metadata={"description": "line number in the file (the header is line 1)"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class PostImportResultSchema(Schema):
    created = fields.Integer()
    errors = fields.List(fields.Nested(ImportRowErrorSchema))
