"""The one place that talks to Shopify's Admin API.

Built on Shopify's `shopify_app` package (token exchange, refresh, GraphQL);
this module adds what the app needs around it: typed results and errors,
bounded retries on throttling and 5xx (tenacity runs the attempts; which answers
are retried, and how long to wait, is decided here), key=value logs that never carry a token,
routing to a local fake Shopify in tests, and the REST-shaped order payloads
the webhook code already parses.

Shop arguments are full domains (`lumen-skin.myshopify.com`). `shopify_app`
wants the bare name for GraphQL and refresh (it builds
`https://<name>.myshopify.com/...` itself) and the domain in the session
token's `dest` for token exchange; the conversion happens here only.
"""

from __future__ import annotations

import json
import logging
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from shopify_app import AppConfig, admin_graphql_request, refresh_access_token, token_exchange
from tenacity import RetryCallState, Retrying, retry_if_result, stop_after_attempt

log = logging.getLogger("creator_roi.shopify_admin")

SHOP_DOMAIN_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9-]*\.myshopify\.com$")
DEFAULT_ADMIN_BASE_URL = "https://{shop}"
_TOKEN_RE = re.compile(r"shp[a-z]{2}_[A-Za-z0-9]+")


def is_valid_shop_domain(value: str) -> bool:
    return isinstance(value, str) and len(value) <= 255 and SHOP_DOMAIN_RE.fullmatch(value) is not None


@dataclass(frozen=True)
class AdminConfig:
    api_key: str
    api_secret: str = field(repr=False)
    old_api_secret: str | None = field(default=None, repr=False)
    api_version: str = "2026-10"
    # "https://{shop}" in production. Tests point it at a fake Shopify, with or
    # without "{shop}" (e.g. "http://127.0.0.1:8123" or "http://127.0.0.1:8123/{shop}").
    admin_base_url: str = DEFAULT_ADMIN_BASE_URL
    timeout: float = 30.0
    # Our own attempts around shopify_app's: it already retries 429 and 502-504
    # twice per attempt, but not THROTTLED answers (HTTP 200) nor a 500.
    max_attempts: int = 3
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 20.0


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    scope: str
    expires_at: datetime | None
    refresh_token: str | None
    refresh_token_expires_at: datetime | None

    def needs_refresh(self, now: datetime, margin: timedelta = timedelta(minutes=5)) -> bool:
        if self.expires_at is None:
            return False
        return _as_utc(now) + margin >= _as_utc(self.expires_at)

    def __repr__(self) -> str:  # a TokenSet in a traceback or log must not show the tokens
        return (
            f"TokenSet(scope={self.scope!r}, expires_at={self.expires_at!r}, "
            f"refresh_token_expires_at={self.refresh_token_expires_at!r})"
        )


class ShopifyAdminError(Exception):
    """Shopify refused or failed a call. `status` is Shopify's HTTP status when there was one."""

    def __init__(self, message: str, status: int | None = None) -> None:
        message = _TOKEN_RE.sub("[REDACTED]", message)
        super().__init__(message)
        self.message = message
        self.status = status


class InvalidSubjectToken(ShopifyAdminError):
    """Token exchange answered invalid_subject_token: answer 401 with the retry header."""


class UserErrors(ShopifyAdminError):
    """A mutation answered userErrors (e.g. code TAKEN for a discount code that exists)."""

    def __init__(self, errors: list[dict[str, Any]], status: int | None = 200) -> None:
        self.errors: list[dict[str, Any]] = [
            {"field": list(e.get("field") or []), "message": str(e.get("message") or ""), "code": e.get("code")}
            for e in errors
        ]
        summary = "; ".join(f"{'.'.join(e['field']) or '-'}: {e['message']}" for e in self.errors)
        super().__init__(f"Shopify rejected the input: {summary}", status)

    @property
    def codes(self) -> list[str | None]:
        return [e["code"] for e in self.errors]


class AccessRevoked(ShopifyAdminError):
    """The Admin API answered 401: the token is no longer valid (app uninstalled or token revoked)."""


class RefreshTokenInvalid(AccessRevoked):
    """The refresh token was refused or has expired: only a new token exchange helps."""


class ShopifyUnavailable(ShopifyAdminError):
    """Still throttled, 5xx or unreachable after every retry: try again later."""


# --- HTTP client: admin_base_url routing ------------------------------------


def _route_to_base_url(template: str):
    """A request hook sending https://<shop>/<path> to the configured base URL.

    The Host header was set from the original URL when the request was built
    and is left alone, so the server still sees `Host: <shop>`; a template with
    "{shop}" also puts the shop domain in the URL (as a path prefix, say).
    """
    template = template.rstrip("/")

    def route(request: httpx.Request) -> None:
        shop = request.url.host
        base = httpx.URL(template.replace("{shop}", shop))
        request.url = base.copy_with(path=base.path.rstrip("/") + request.url.path, query=request.url.query or None)

    return route


@contextmanager
def _http_client(config: AdminConfig) -> Iterator[httpx.Client]:
    hooks: dict[str, list] = {"request": []}
    if config.admin_base_url.rstrip("/") != DEFAULT_ADMIN_BASE_URL:
        hooks["request"].append(_route_to_base_url(config.admin_base_url))
    client = httpx.Client(timeout=config.timeout, event_hooks=hooks)
    try:
        yield client
    finally:
        client.close()


# --- helpers -----------------------------------------------------------------


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes for UTC columns.
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _iso_utc(value: datetime) -> str:
    return _as_utc(value).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _shop_name(shop: str) -> str:
    if not is_valid_shop_domain(shop):
        raise ValueError(f"not a valid shop domain: {shop!r}")
    return shop.lower().removesuffix(".myshopify.com")


def _http_status(result: Any) -> int | None:
    """Shopify's own HTTP status for the last request shopify_app made (not its suggested response)."""
    logs = getattr(result, "http_logs", None) or []
    status = logs[-1].res.status if logs else None
    return status or None


def _app_configs(config: AdminConfig) -> Iterator[AppConfig]:
    """The current secret first; the old one only while a secret rotation is under way."""
    for secret in (config.api_secret, config.old_api_secret):
        if secret:
            yield {"client_id": config.api_key, "client_secret": secret, "old_client_secret": None}


def _token_set(token: Any, fallback_scope: str = "") -> TokenSet:
    return TokenSet(
        access_token=token.token,
        scope=token.scope or fallback_scope,
        expires_at=_parse_iso(token.expires),
        refresh_token=token.refresh_token or None,
        refresh_token_expires_at=_parse_iso(token.refresh_token_expires),
    )


def gid_to_int(gid: str) -> int:
    """gid://shopify/Order/6012345678901 -> 6012345678901"""
    return int(str(gid).rsplit("/", 1)[-1].split("?", 1)[0])


# --- tokens ------------------------------------------------------------------


def exchange_session_token(config: AdminConfig, shop: str, session_token: str) -> TokenSet:
    """An expiring offline access token for `shop`, by token exchange.

    The caller has verified the session token (signature, aud, exp, dest == shop);
    Shopify checks it again and answers invalid_subject_token if it disagrees.
    """
    domain = f"{_shop_name(shop)}.myshopify.com"
    id_token = {"exchangeable": True, "token": session_token, "claims": {"dest": f"https://{domain}"}}
    with _http_client(config) as client:
        for number, app_config in enumerate(_app_configs(config)):
            if number:
                log.warning("shop=%s op=token_exchange status=retry_with_old_secret", domain)
            result = token_exchange("offline", app_config, id_token=id_token, expiring=True, http_client=client)
            if result.ok or result.log.code != "invalid_client":
                break
    status = _http_status(result)
    if result.ok and result.access_token is not None:
        tokens = _token_set(result.access_token)
        log.info(
            "shop=%s op=token_exchange status=ok http_status=%s expires_at=%s",
            domain,
            status,
            tokens.expires_at and _iso_utc(tokens.expires_at),
        )
        return tokens
    code = result.log.code
    log.warning("shop=%s op=token_exchange status=%s http_status=%s", domain, code, status)
    if code == "invalid_subject_token":
        raise InvalidSubjectToken("Shopify rejected the session token (invalid_subject_token)", status)
    if code in ("network_error", "rate_limit_exceeded") or (status or 0) >= 500:
        raise ShopifyUnavailable(f"token exchange failed: {code}", status)
    raise ShopifyAdminError(f"token exchange failed: {code}", status)


def refresh_tokens(config: AdminConfig, shop: str, tokens: TokenSet) -> TokenSet:
    """A new access/refresh token pair. The old refresh token is spent: store the result."""
    name = _shop_name(shop)
    domain = f"{name}.myshopify.com"
    if not tokens.refresh_token:
        if tokens.expires_at is None:
            return tokens  # a non-expiring token never needs refreshing
        raise RefreshTokenInvalid("this access token has no refresh token; a new token exchange is needed")
    current = {
        "shop": name,
        "refresh_token": tokens.refresh_token,
        # No expiry: the caller decided it is time (TokenSet.needs_refresh), and
        # shopify_app would otherwise skip the call while >60 s remain.
        "expires": None,
        "refresh_token_expires": tokens.refresh_token_expires_at and _iso_utc(tokens.refresh_token_expires_at),
        "access_mode": "offline",
        "user": None,
    }
    with _http_client(config) as client:
        for number, app_config in enumerate(_app_configs(config)):
            if number:
                log.warning("shop=%s op=token_refresh status=retry_with_old_secret", domain)
            result = refresh_access_token(current, app_config, http_client=client)
            if result.ok or result.log.code != "invalid_client":
                break
    status = _http_status(result)
    if result.ok and result.access_token is not None:
        fresh = _token_set(result.access_token, fallback_scope=tokens.scope)
        log.info(
            "shop=%s op=token_refresh status=ok http_status=%s expires_at=%s",
            domain,
            status,
            fresh.expires_at and _iso_utc(fresh.expires_at),
        )
        return fresh
    code = result.log.code
    log.warning("shop=%s op=token_refresh status=%s http_status=%s", domain, code, status)
    if code in ("invalid_grant", "refresh_token_expired"):
        raise RefreshTokenInvalid(f"token refresh failed: {code}", status)
    if code in ("network_error", "server_error"):
        raise ShopifyUnavailable(f"token refresh failed: {code}", status)
    raise ShopifyAdminError(f"token refresh failed: {code}", status)


# --- GraphQL -------------------------------------------------------------------

_OPERATION_RE = re.compile(r"^\s*(?:query|mutation)\s+([_A-Za-z][_0-9A-Za-z]*)")


def _operation_name(query: str) -> str:
    match = _OPERATION_RE.match(query)
    return match.group(1) if match else "anonymous"


def _error_messages(errors: Any) -> str:
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
    return str(errors)


def _is_throttled(errors: Any) -> bool:
    return isinstance(errors, list) and any(
        isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors
    )


def _backoff(config: AdminConfig, attempt: int) -> float:
    delay = min(config.max_backoff_seconds, config.backoff_seconds * 2 ** (attempt - 1))
    return delay + random.uniform(0, delay / 10)


def _throttle_wait(config: AdminConfig, body: dict[str, Any], attempt: int) -> float:
    """Long enough for the bucket to hold this query again, per Shopify's own cost report."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    bucket = cost.get("throttleStatus") or {}
    try:
        missing = float(cost["requestedQueryCost"]) - float(bucket["currentlyAvailable"])
        rate = float(bucket["restoreRate"])
    except (KeyError, TypeError, ValueError):
        return _backoff(config, attempt)
    if rate <= 0:
        return _backoff(config, attempt)
    return min(config.max_backoff_seconds, max(missing / rate, 0.0))


def _body(result: Any) -> dict[str, Any]:
    try:
        body = json.loads(result.response.body or "{}")
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _throttled_body(result: Any) -> dict[str, Any] | None:
    """The body of a THROTTLED answer (HTTP 200 with errors, and Shopify's cost report), else None."""
    if result.log.code != "graphql_errors":
        return None
    body = _body(result)
    return body if _is_throttled(body.get("errors")) else None


def _retry_reason(result: Any) -> str | None:
    """Why an answer is worth another attempt (throttled, 429, 5xx), or None: every other answer is final.

    A network error is final too: a mutation may have gone through; the job is retried instead.
    """
    code = result.log.code
    if result.ok or code in ("unauthorized", "network_error"):
        return None
    if code == "graphql_errors":
        return "throttled" if _throttled_body(result) is not None else None
    status = _http_status(result)
    return code if status == 429 or (status or 0) >= 500 else None


def _graphql(
    client: httpx.Client,
    config: AdminConfig,
    shop: str,
    access_token: str,
    query: str,
    variables: dict[str, Any] | None,
) -> dict[str, Any]:
    name = _shop_name(shop)
    domain = f"{name}.myshopify.com"
    operation = _operation_name(query)
    attempts = max(1, config.max_attempts)

    def wait(state: RetryCallState) -> float:
        answer, number = _last_answer(state), state.attempt_number
        body = _throttled_body(answer)
        return _backoff(config, number) if body is None else _throttle_wait(config, body, number)

    def log_retry(state: RetryCallState) -> None:
        answer = _last_answer(state)
        log.warning(
            "shop=%s op=graphql operation=%s status=%s http_status=%s attempt=%d retry_in=%.2f",
            domain,
            operation,
            _retry_reason(answer),
            _http_status(answer),
            state.attempt_number,
            state.next_action.sleep if state.next_action else 0.0,
        )

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait,
        before_sleep=log_retry,
        retry=retry_if_result(lambda answer: _retry_reason(answer) is not None),
        retry_error_callback=_last_answer,
    )  # out of attempts: the last answer, classified below
    result = retrying(
        admin_graphql_request,
        query,
        shop=name,
        access_token=access_token,
        api_version=config.api_version,
        variables=variables,
        http_client=client,
    )
    attempt = retrying.statistics["attempt_number"]
    status = _http_status(result)
    code = result.log.code
    if result.ok:
        cost = ((result.extensions or {}).get("cost") or {}).get("actualQueryCost")
        log.info(
            "shop=%s op=graphql operation=%s status=ok http_status=%s attempt=%d cost=%s",
            domain,
            operation,
            status,
            attempt,
            cost,
        )
        return result.data or {}
    reason = _retry_reason(result)
    if reason is not None:
        log.error(
            "shop=%s op=graphql operation=%s status=gave_up reason=%s http_status=%s attempts=%d",
            domain,
            operation,
            reason,
            status,
            attempts,
        )
        raise ShopifyUnavailable(f"Admin API still {reason} after {attempts} attempts", status)
    if code == "unauthorized":
        log.warning("shop=%s op=graphql operation=%s status=unauthorized http_status=401", domain, operation)
        raise AccessRevoked("Admin API answered 401: the access token is invalid or was revoked", 401)
    if code == "graphql_errors":
        log.warning("shop=%s op=graphql operation=%s status=graphql_errors http_status=%s", domain, operation, status)
        raise ShopifyAdminError(f"GraphQL errors: {_error_messages(_body(result).get('errors'))}", status)
    if code == "network_error":
        log.warning("shop=%s op=graphql operation=%s status=network_error", domain, operation)
        raise ShopifyUnavailable("Admin API unreachable (network error)", None)
    log.warning("shop=%s op=graphql operation=%s status=%s http_status=%s", domain, operation, code, status)
    raise ShopifyAdminError(f"Admin API request failed: {code}", status)


def _last_answer(state: RetryCallState) -> Any:
    """shopify_app's result of the attempt just made (its request function does not raise)."""
    assert state.outcome is not None
    return state.outcome.result()


def graphql(config: AdminConfig, shop: str, access_token: str, query: str, variables: dict | None = None) -> dict:
    """Run one Admin GraphQL operation and return its `data`."""
    with _http_client(config) as client:
        return _graphql(client, config, shop, access_token, query, variables)


# --- operations the app uses -----------------------------------------------------

SHOP_QUERY = """
query CreatorRoiShop {
  shop { id name currencyCode ianaTimezone }
}
"""


def fetch_shop(config: AdminConfig, shop: str, access_token: str) -> dict:
    node = graphql(config, shop, access_token, SHOP_QUERY).get("shop")
    if not node:
        raise ShopifyAdminError("Admin API answered no shop", 200)
    return {
        "name": node.get("name"),
        "currency": node.get("currencyCode"),
        "timezone": node.get("ianaTimezone"),
        "shopify_id": gid_to_int(node["id"]),
    }


DISCOUNT_CREATE_MUTATION = """
mutation CreatorRoiDiscountCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}
"""


def create_discount_code(
    config: AdminConfig,
    shop: str,
    access_token: str,
    *,
    code: str,
    title: str,
    percent_off: Decimal,
    starts_at: datetime,
    usage_limit: int | None = None,
    once_per_customer: bool = False,
) -> str:
    """Create a percentage code for every customer and every product; returns the discount's gid."""
    percent_off = Decimal(percent_off)
    if not code.strip():
        raise ValueError("code must not be blank")
    if not Decimal(0) < percent_off <= Decimal(100):
        raise ValueError("percent_off must be more than 0 and at most 100")
    discount = {
        "title": title,
        "code": code,
        "startsAt": _iso_utc(starts_at),
        "usageLimit": usage_limit,
        "appliesOncePerCustomer": once_per_customer,
        # `context` replaces the deprecated `customerSelection: {all: true}`.
        "context": {"all": "ALL"},
        "customerGets": {
            # A ratio, not money: Shopify wants a Float fraction (15 % -> 0.15).
            "value": {"percentage": float(percent_off / 100)},
            "items": {"all": True},
        },
    }
    data = graphql(config, shop, access_token, DISCOUNT_CREATE_MUTATION, {"basicCodeDiscount": discount})
    payload = data.get("discountCodeBasicCreate") or {}
    if payload.get("userErrors"):
        log.info(
            "shop=%s op=discount_create status=user_errors codes=%s",
            shop,
            ",".join(str(e.get("code")) for e in payload["userErrors"]),
        )
        raise UserErrors(payload["userErrors"])
    node = payload.get("codeDiscountNode") or {}
    if not node.get("id"):
        raise ShopifyAdminError("discountCodeBasicCreate answered neither a discount nor userErrors", 200)
    log.info("shop=%s op=discount_create status=ok discount_id=%s", shop, node["id"])
    return node["id"]


ORDERS_QUERY = """
query CreatorRoiOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name createdAt updatedAt processedAt cancelledAt test sourceName
      currencyCode displayFinancialStatus discountCodes
      customAttributes { key value }
      customer { id }
      subtotalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
      customerJourneySummary { firstVisit { landingPage } }
      refunds { id createdAt }
    }
  }
}
"""

# Refund lines are fetched per refund: nesting them in the orders page would
# multiply its requested cost past Shopify's 1,000-point single-query limit.
REFUND_LINES_QUERY = """
query CreatorRoiRefundLines($id: ID!, $after: String) {
  refund(id: $id) {
    refundLineItems(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes { subtotalSet { shopMoney { amount currencyCode } } }
    }
  }
}
"""


def _shop_money(bag: dict | None) -> dict | None:
    money = (bag or {}).get("shopMoney")
    if money is None:
        return None
    # Shopify's Decimal scalar is a string; keep it one so no float ever touches money.
    return {"shop_money": {"amount": str(money["amount"]), "currency_code": money["currencyCode"]}}


def _subtotal_set(bag: dict | None) -> dict | None:
    """The order's subtotal set: shop money, and the buyer's presentment money beside when sent."""
    found = _shop_money(bag)
    shown = (bag or {}).get("presentmentMoney")
    if found is not None and isinstance(shown, dict):
        found["presentment_money"] = {"amount": str(shown.get("amount")), "currency_code": shown.get("currencyCode")}
    return found


def _landing_site(node: dict) -> str | None:
    """REST's landing_site is the path and query ("/?ref=..."); GraphQL gives a full URL."""
    page = (((node.get("customerJourneySummary") or {}).get("firstVisit")) or {}).get("landingPage")
    if not page:
        return None
    parts = urlsplit(page)
    if not parts.scheme:
        return page
    return (parts.path or "/") + (f"?{parts.query}" if parts.query else "")


def _inline_refund_lines(refund: dict) -> list[dict]:
    return ((refund.get("refundLineItems") or {}).get("nodes")) or []


def order_to_rest(node: dict, refund_lines: dict[str, list[dict]] | None = None) -> dict:
    """A GraphQL order node in the shape of the REST webhook payload the app parses."""
    refund_lines = refund_lines or {}
    customer = node.get("customer")
    status = node.get("displayFinancialStatus")
    return {
        "id": gid_to_int(node["id"]),
        "admin_graphql_api_id": node["id"],
        "name": node.get("name"),
        "created_at": node.get("createdAt"),
        "updated_at": node.get("updatedAt"),
        "processed_at": node.get("processedAt"),
        "cancelled_at": node.get("cancelledAt"),
        "test": bool(node.get("test")),
        "source_name": node.get("sourceName"),
        "currency": node.get("currencyCode"),
        "financial_status": status.lower() if status else None,
        "landing_site": _landing_site(node),
        "discount_codes": [{"code": code} for code in node.get("discountCodes") or []],
        "note_attributes": [{"name": a["key"], "value": a.get("value")} for a in node.get("customAttributes") or []],
        "customer": {"id": gid_to_int(customer["id"])} if customer else None,
        "subtotal_price_set": _subtotal_set(node.get("subtotalPriceSet")),
        "refunds": [
            {
                "id": gid_to_int(refund["id"]),
                "created_at": refund.get("createdAt"),
                "refund_line_items": [
                    {"subtotal_set": _shop_money(line.get("subtotalSet"))}
                    for line in refund_lines.get(refund["id"], _inline_refund_lines(refund))
                ],
            }
            for refund in node.get("refunds") or []
        ],
    }


def _refund_lines(
    client: httpx.Client, config: AdminConfig, shop: str, access_token: str, refund_id: str
) -> list[dict]:
    lines: list[dict] = []
    after = None
    while True:
        data = _graphql(client, config, shop, access_token, REFUND_LINES_QUERY, {"id": refund_id, "after": after})
        connection = ((data.get("refund") or {}).get("refundLineItems")) or {}
        lines.extend(connection.get("nodes") or [])
        page = connection.get("pageInfo") or {}
        if not page.get("hasNextPage"):
            return lines
        after = page["endCursor"]


def fetch_orders(
    config: AdminConfig, shop: str, access_token: str, *, since: datetime, page_size: int = 100
) -> Iterator[dict]:
    """Every order created at or after `since`, oldest first, as REST webhook payloads."""
    if not 1 <= page_size <= 250:
        raise ValueError("page_size must be between 1 and 250")
    search = f"created_at:>='{_iso_utc(since)}'"
    after = None
    pages = orders = 0
    with _http_client(config) as client:
        while True:
            data = _graphql(
                client, config, shop, access_token, ORDERS_QUERY, {"first": page_size, "after": after, "query": search}
            )
            connection = data.get("orders") or {}
            pages += 1
            for node in connection.get("nodes") or []:
                lines = {
                    r["id"]: _refund_lines(client, config, shop, access_token, r["id"])
                    for r in node.get("refunds") or []
                }
                orders += 1
                yield order_to_rest(node, lines)
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage"):
                break
            after = page["endCursor"]
    log.info("shop=%s op=fetch_orders status=ok since=%s pages=%d orders=%d", shop, _iso_utc(since), pages, orders)


# storeCreditAccountCredit (Admin GraphQL; needs the write_store_credit_account_transactions scope):
# `id` is the store credit account's or its owner's (a Customer gid; an account in the shop's
# currency is made on the first credit), `creditInput` a StoreCreditAccountCreditInput
# {creditAmount: MoneyInput!, expiresAt, notify}. It answers the StoreCreditAccountCreditTransaction
# and userErrors with StoreCreditAccountCreditUserErrorCode codes (OWNER_NOT_FOUND,
# NEGATIVE_OR_ZERO_AMOUNT, MISMATCHING_CURRENCY, UNSUPPORTED_CURRENCY, CREDIT_LIMIT_EXCEEDED, ...).
STORE_CREDIT_MUTATION = """
mutation CreatorRoiStoreCredit($id: ID!, $creditInput: StoreCreditAccountCreditInput!) {
  storeCreditAccountCredit(id: $id, creditInput: $creditInput) {
    storeCreditAccountTransaction {
      id
      amount { amount currencyCode }
      balanceAfterTransaction { amount currencyCode }
      account { id }
    }
    userErrors { field message code }
  }
}
"""


@dataclass(frozen=True)
class StoreCreditTransaction:
    id: str
    amount: Decimal
    currency: str
    balance_after: Decimal
    account_id: str


def credit_store_credit(
    config: AdminConfig,
    shop: str,
    access_token: str,
    *,
    customer_id: int,
    amount: Decimal,
    currency: str,
    notify: bool = True,
) -> StoreCreditTransaction:
    """Credit a customer's store credit account (made if missing) with `amount` in `currency`."""
    amount = Decimal(amount)
    if amount <= 0:
        raise ValueError("a store credit must be more than 0")
    variables = {
        "id": f"gid://shopify/Customer/{int(customer_id)}",
        "creditInput": {
            # MoneyInput's amount is a Decimal scalar: a string, never a float.
            "creditAmount": {"amount": format(amount.quantize(Decimal("0.01")), "f"), "currencyCode": currency.upper()},
            "notify": notify,
        },
    }
    data = graphql(config, shop, access_token, STORE_CREDIT_MUTATION, variables)
    payload = data.get("storeCreditAccountCredit") or {}
    if payload.get("userErrors"):
        log.info(
            "shop=%s op=store_credit status=user_errors codes=%s",
            shop,
            ",".join(str(e.get("code")) for e in payload["userErrors"]),
        )
        raise UserErrors(payload["userErrors"])
    node = payload.get("storeCreditAccountTransaction") or {}
    if not node.get("id"):
        raise ShopifyAdminError("storeCreditAccountCredit answered neither a transaction nor userErrors", 200)
    log.info("shop=%s op=store_credit status=ok transaction_id=%s", shop, node["id"])
    return StoreCreditTransaction(
        id=node["id"],
        amount=Decimal(str(node["amount"]["amount"])),
        currency=node["amount"]["currencyCode"],
        balance_after=Decimal(str(node["balanceAfterTransaction"]["amount"])),
        account_id=(node.get("account") or {}).get("id", ""),
    )
