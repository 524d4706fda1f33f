"""A local fake of Shopify's OAuth token endpoint and Admin GraphQL API.

A real HTTP server on 127.0.0.1 that answers the calls `worker.shopify_admin`
makes the way Shopify does: token exchange and refresh, the `shop` query,
`discountCodeBasicCreate`, `storeCreditAccountCredit`, the `orders` query with cursor
pagination and the `refund` query for refund lines. Point `AdminConfig.admin_base_url` at
`fake.base_url` (or `fake.base_url + "/{shop}"`).

The shop of a request is the first path segment when it is a shop domain,
else the `Host` header, which the app keeps as `<shop>.myshopify.com` when it
routes requests here.

Use the `fake_shopify` fixture (import it into a test module or conftest).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest

TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"
TOKEN_TYPES = {
    "urn:shopify:params:oauth:token-type:offline-access-token": "offline",
    "urn:shopify:params:oauth:token-type:online-access-token": "online",
}
INVALID_TOKEN_BODY = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
SHOP_RE = re.compile(r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
GRAPHQL_PATH_RE = re.compile(r"^/admin/api/(?P<version>[0-9]{4}-[0-9]{2}|unstable)/graphql\.json$")
SECRET_HEADERS = {"x-shopify-access-token", "authorization"}
SECRET_FIELDS = {"client_secret", "subject_token", "refresh_token", "access_token"}
REDACTED = "[REDACTED]"


class RecordedRequest(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]
    json: Any

    @property
    def shop(self) -> str | None:
        return _shop_of(self.path, self.headers.get("Host", ""))[0]


def _shop_of(path: str, host: str) -> tuple[str | None, str]:
    """(shop, path without the shop prefix)"""
    first, _, rest = path.lstrip("/").partition("/")
    if SHOP_RE.match(first.lower()):
        return first.lower(), "/" + rest
    host = host.split(":", 1)[0].lower()
    return (host if SHOP_RE.match(host) else None), path


def _gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def _iso(value: datetime | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _money(amount: Any, currency: str) -> dict:
    text = format(Decimal(str(amount)).quantize(Decimal("0.01")), "f")
    return {
        "shopMoney": {"amount": text, "currencyCode": currency},
        "presentmentMoney": {"amount": text, "currencyCode": currency},
    }


def _cursor(index: int) -> str:
    return base64.b64encode(f"cursor:{index}".encode()).decode()


def _index(cursor: str | None) -> int:
    if not cursor:
        return -1
    return int(base64.b64decode(cursor).decode().split(":", 1)[1])


class _Reply(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


class FakeShopify:
    def __init__(
        self,
        api_key: str = "test-api-key",
        api_secret: str = "test-api-secret",
        scope: str = "read_orders,read_customers,write_discounts",
    ) -> None:
        self.api_key = api_key
        self.api_secret = api_secret
        # Shopify's secret-rotation window: the previous secret still authenticates
        # the app and may have signed session tokens.
        self.old_api_secret: str | None = None
        self.scope = scope
        self.access_token_ttl = 3600
        self.refresh_token_ttl = 7776000
        self.reject_subject_tokens = False
        self.orders: dict[str, list[dict]] = {}
        self.discounts: dict[str, list[dict]] = {}
        # Customers a store credit can go to, and the credits given: shop -> ...
        self.customers: dict[str, set[int]] = {}
        self.store_credits: dict[str, list[dict]] = {}
        self.shops: dict[str, dict] = {}
        self.requests: list[RecordedRequest] = []
        self._access_tokens: dict[str, dict] = {}
        self._refresh_tokens: dict[str, dict] = {}
        self._failures: list[int] = []
        self._throttles = 0
        self._rate_limits: list[str] = []
        self._ids = itertools.count(5000000000001)
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> "FakeShopify":
        fake = self

        class Handler(_Handler):
            pass

        Handler.fake = fake
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-shopify", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "FakeShopify":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        assert self._server is not None, "FakeShopify is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def admin_config(self, **overrides: Any):
        """An AdminConfig pointed at this fake, with test-speed backoff."""
        from worker.shopify_admin import AdminConfig

        settings = {
            "api_key": self.api_key,
            "api_secret": self.api_secret,
            "admin_base_url": self.base_url,
            "backoff_seconds": 0.01,
            "timeout": 10.0,
        }
        settings.update(overrides)
        return AdminConfig(**settings)

    # --- knobs -----------------------------------------------------------------

    def fail_next(self, n: int, status: int = 503) -> None:
        """The next n requests (any endpoint) answer `status`."""
        with self._lock:
            self._failures.extend([status] * n)

    def throttle_next(self, n: int) -> None:
        """The next n GraphQL requests answer 200 THROTTLED, as Shopify does."""
        with self._lock:
            self._throttles += n

    def rate_limit_next(self, n: int, retry_after: str = "2.0") -> None:
        """The next n GraphQL requests answer 429 with this Retry-After."""
        with self._lock:
            self._rate_limits.extend([retry_after] * n)

    def revoke(self, shop: str) -> None:
        """Every token issued for `shop` stops working (app uninstalled)."""
        with self._lock:
            for store in (self._access_tokens, self._refresh_tokens):
                for grant in store.values():
                    if grant["shop"] == shop:
                        grant["revoked"] = True

    def issue_token(self, shop: str, expires_in: int | None = None) -> str:
        """An access token for `shop`, as if installed (a custom app's, when expires_in is None)."""
        with self._lock:
            token = "shpat_" + secrets.token_hex(16)
            expires = time.time() + expires_in if expires_in is not None else None
            self._access_tokens[token] = {"shop": shop, "expires": expires, "revoked": False}
            return token

    def session_token(
        self, shop: str, *, secret: str | None = None, dest: str | None = None, lifetime: int = 60, **claims: Any
    ) -> str:
        """A session token (ID token) like App Bridge sends, signed with the app secret."""
        now = int(time.time())
        payload = {
            "iss": f"https://{shop}/admin",
            "dest": dest or f"https://{shop}",
            "aud": self.api_key,
            "sub": "74719341081",
            "exp": now + lifetime,
            "nbf": now - 1,
            "iat": now - 1,
            "jti": secrets.token_hex(8),
            "sid": secrets.token_hex(8),
        }
        payload.update(claims)
        return jwt.encode(payload, secret or self.api_secret, algorithm="HS256")

    def add_customer(self, shop: str, customer_id: int) -> str:
        """A customer of `shop` (store credit can be given to them); their gid."""
        with self._lock:
            self.customers.setdefault(shop, set()).add(int(customer_id))
        return _gid("Customer", int(customer_id))

    def store_credit_balance(self, shop: str, customer_id: int, currency: str = "USD") -> Decimal:
        with self._lock:
            return sum(
                (
                    Decimal(c["amount"])
                    for c in self.store_credits.get(shop, [])
                    if c["customer_id"] == customer_id and c["currency"] == currency
                ),
                Decimal("0.00"),
            )

    def set_shop(self, shop: str, **fields: Any) -> dict:
        details = self._shop_details(shop)
        details.update(fields)
        return details

    def add_order(self, shop: str, **fields: Any) -> dict:
        """Add a GraphQL-shaped order node. Keywords: id, name, created_at, updated_at,
        processed_at, cancelled_at, test, source_name, currency, financial_status,
        subtotal, discount_codes, landing_page, custom_attributes ({key: value}),
        customer_id, refunds ([{"id", "created_at", "subtotals": [amounts]}])."""
        with self._lock:
            orders = self.orders.setdefault(shop, [])
            number = fields.pop("id", None) or next(self._ids)
            created = _iso(fields.pop("created_at", None)) or _iso(
                datetime(2026, 10, 1, tzinfo=timezone.utc) + timedelta(minutes=len(orders))
            )
            currency = fields.pop("currency", "USD")
            landing = fields.pop("landing_page", None)
            customer_id = fields.pop("customer_id", None)
            refunds = [
                {
                    "id": _gid("Refund", refund.get("id") or next(self._ids)),
                    "createdAt": _iso(refund.get("created_at")) or created,
                    "refundLineItems": {
                        "nodes": [{"subtotalSet": _money(amount, currency)} for amount in refund.get("subtotals", [])]
                    },
                }
                for refund in fields.pop("refunds", [])
            ]
            node = {
                "id": _gid("Order", number),
                "name": fields.pop("name", f"#{1001 + len(orders)}"),
                "createdAt": created,
                "updatedAt": _iso(fields.pop("updated_at", None)) or created,
                "processedAt": _iso(fields.pop("processed_at", None)) or created,
                "cancelledAt": _iso(fields.pop("cancelled_at", None)),
                "test": fields.pop("test", False),
                "sourceName": fields.pop("source_name", "web"),
                "currencyCode": currency,
                "displayFinancialStatus": fields.pop("financial_status", "PAID"),
                "discountCodes": list(fields.pop("discount_codes", [])),
                "customAttributes": [{"key": k, "value": v} for k, v in fields.pop("custom_attributes", {}).items()],
                "customer": {"id": _gid("Customer", customer_id)} if customer_id else None,
                "subtotalPriceSet": _money(fields.pop("subtotal", "100.00"), currency),
                "customerJourneySummary": {
                    "firstVisit": {"landingPage": landing} if landing else None,
                }
                if landing
                else None,
                "refunds": refunds,
            }
            if fields:
                raise TypeError(f"add_order: unknown fields {sorted(fields)}")
            orders.append(node)
            orders.sort(key=lambda o: (o["createdAt"], o["id"]))
            return node

    # --- request handling (called from server threads) ---------------------------

    def _shop_details(self, shop: str) -> dict:
        with self._lock:
            return self.shops.setdefault(
                shop,
                {
                    "id": _gid("Shop", 71829364501),
                    "name": shop.split(".", 1)[0].replace("-", " ").title(),
                    "currencyCode": "USD",
                    "ianaTimezone": "America/New_York",
                },
            )

    def _record(self, method: str, path: str, headers: dict[str, str], body: Any) -> None:
        clean_headers = {k: (REDACTED if k.lower() in SECRET_HEADERS else v) for k, v in headers.items()}
        if isinstance(body, dict):
            body = {k: (REDACTED if k in SECRET_FIELDS else v) for k, v in body.items()}
        with self._lock:
            self.requests.append(RecordedRequest(method, path, clean_headers, body))

    def _handle(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> _Reply:
        path = urlsplit(raw_path).path
        try:
            body = self._parse_body(headers, raw)
        except ValueError:
            body = None
        self._record(method, raw_path, headers, body)
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            return _Reply(failure, {"errors": "Service Unavailable"})
        shop, path = _shop_of(path, headers.get("Host", ""))
        if shop is None:
            return _Reply(404, {"errors": "Not Found"})
        if method != "POST":
            return _Reply(405, {"errors": "Method Not Allowed"})
        if body is None:
            return _Reply(400, {"errors": "malformed body"})
        try:
            if path == "/admin/oauth/access_token":
                return _Reply(200, self._token_endpoint(shop, body))
            if GRAPHQL_PATH_RE.match(path):
                return _Reply(200, self._graphql_endpoint(shop, headers, body))
        except _Reply as reply:
            return reply
        return _Reply(404, {"errors": "Not Found"})

    @staticmethod
    def _parse_body(headers: dict[str, str], raw: bytes) -> Any:
        content_type = headers.get("Content-Type", "")
        if "application/x-www-form-urlencoded" in content_type:
            return dict(parse_qsl(raw.decode()))
        return json.loads(raw or b"{}")

    # --- OAuth -------------------------------------------------------------------

    def _token_endpoint(self, shop: str, body: dict) -> dict:
        if body.get("client_id") != self.api_key or body.get("client_secret") not in self._secrets():
            raise _Reply(400, {"error": "invalid_client", "error_description": "Client authentication failed"})
        grant = body.get("grant_type")
        if grant == TOKEN_EXCHANGE_GRANT:
            return self._token_exchange(shop, body)
        if grant == "refresh_token":
            return self._refresh(shop, body)
        raise _Reply(400, {"error": "unsupported_grant_type"})

    def _invalid_subject_token(self, why: str) -> _Reply:
        return _Reply(400, {"error": "invalid_subject_token", "error_description": f"Token exchange failed: {why}"})

    def _secrets(self) -> list[str]:
        return [s for s in (self.api_secret, self.old_api_secret) if s]

    def _verified_claims(self, token: str) -> dict:
        failure = "no secret"
        for secret in self._secrets():
            try:
                return jwt.decode(token, secret, algorithms=["HS256"], audience=self.api_key, leeway=10)
            except jwt.InvalidSignatureError:
                failure = "InvalidSignatureError"
            except jwt.InvalidTokenError as exc:
                raise self._invalid_subject_token(type(exc).__name__) from exc
        raise self._invalid_subject_token(failure)

    def _token_exchange(self, shop: str, body: dict) -> dict:
        if self.reject_subject_tokens:
            raise self._invalid_subject_token("the subject token is not valid")
        if body.get("subject_token_type") != ID_TOKEN_TYPE:
            raise _Reply(400, {"error": "invalid_request", "error_description": "bad subject_token_type"})
        mode = TOKEN_TYPES.get(body.get("requested_token_type", ""))
        if mode is None:
            raise _Reply(400, {"error": "invalid_request", "error_description": "bad requested_token_type"})
        claims = self._verified_claims(body.get("subject_token") or "")
        if claims.get("dest") not in (f"https://{shop}", shop):
            raise self._invalid_subject_token("dest does not name this shop")
        expiring = str(body.get("expiring", "0")) == "1"
        if mode == "online":
            answer = self._grant(shop, expiring=False)
            answer.update(
                expires_in=86400,
                associated_user_scope=self.scope,
                associated_user={
                    "id": int(claims.get("sub", 0)),
                    "first_name": "Test",
                    "last_name": "User",
                    "email": "user@example.com",
                    "account_owner": True,
                    "locale": "en",
                    "collaborator": False,
                    "email_verified": True,
                },
            )
            return answer
        return self._grant(shop, expiring=expiring)

    def _refresh(self, shop: str, body: dict) -> dict:
        with self._lock:
            grant = self._refresh_tokens.get(body.get("refresh_token") or "")
            if grant is None or grant["shop"] != shop or grant["revoked"] or grant["expires"] < time.time():
                raise _Reply(
                    400, {"error": "invalid_grant", "error_description": "refresh token is invalid, expired or revoked"}
                )
            grant["revoked"] = True  # refresh tokens are single-use
            return self._grant(shop, expiring=True)

    def _grant(self, shop: str, *, expiring: bool) -> dict:
        with self._lock:
            token = self.issue_token(shop, self.access_token_ttl if expiring else None)
            answer: dict[str, Any] = {"access_token": token, "scope": self.scope}
            if expiring:
                refresh = "shprt_" + secrets.token_hex(16)
                self._refresh_tokens[refresh] = {
                    "shop": shop,
                    "revoked": False,
                    "expires": time.time() + self.refresh_token_ttl,
                }
                answer.update(
                    expires_in=self.access_token_ttl,
                    refresh_token=refresh,
                    refresh_token_expires_in=self.refresh_token_ttl,
                )
            return answer

    # --- GraphQL -----------------------------------------------------------------

    def _authorise(self, shop: str, headers: dict[str, str]) -> None:
        token = headers.get("X-Shopify-Access-Token", "")
        with self._lock:
            grant = self._access_tokens.get(token)
            ok = (
                grant is not None
                and grant["shop"] == shop
                and not grant["revoked"]
                and (grant["expires"] is None or grant["expires"] > time.time())
            )
        if not ok:
            raise _Reply(401, INVALID_TOKEN_BODY)

    @staticmethod
    def _cost(requested: int, available: float = 1990.0) -> dict:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": min(requested, 10),
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": available, "restoreRate": 100.0},
            }
        }

    def _graphql_endpoint(self, shop: str, headers: dict[str, str], body: dict) -> dict:
        self._authorise(shop, headers)
        query = body.get("query") or ""
        variables = body.get("variables") or {}
        with self._lock:
            rate_limited = self._rate_limits.pop(0) if self._rate_limits else None
            throttled = self._throttles > 0
            if throttled and rate_limited is None:
                self._throttles -= 1
        if rate_limited is not None:
            raise _Reply(429, {"errors": "Too Many Requests"}, {"Retry-After": rate_limited})
        if throttled:
            # Shopify's throttle answer: HTTP 200, no data, cost in extensions.
            return {
                "errors": [
                    {
                        "message": "Throttled",
                        "extensions": {
                            "code": "THROTTLED",
                            "documentation": "https://shopify.dev/api/usage/rate-limits",
                        },
                    }
                ],
                "extensions": self._cost(12, available=11.0),
            }
        if "discountCodeBasicCreate" in query:
            return {
                "data": {"discountCodeBasicCreate": self._discount_create(shop, variables)},
                "extensions": self._cost(10),
            }
        if "storeCreditAccountCredit" in query:
            return {
                "data": {"storeCreditAccountCredit": self._store_credit(shop, variables)},
                "extensions": self._cost(10),
            }
        if re.search(r"\borders\s*\(", query):
            return {"data": {"orders": self._orders(shop, variables)}, "extensions": self._cost(102)}
        if re.search(r"\brefund\s*\(", query):
            return {"data": {"refund": self._refund(shop, variables)}, "extensions": self._cost(32)}
        if re.search(r"\bshop\s*\{", query):
            return {"data": {"shop": dict(self._shop_details(shop))}, "extensions": self._cost(1)}
        return {"errors": [{"message": "This fake does not know the query", "extensions": {"code": "undefinedField"}}]}

    def _discount_create(self, shop: str, variables: dict) -> dict:
        given = variables.get("basicCodeDiscount") or {}
        code = str(given.get("code") or "")
        errors = []
        if not code.strip():
            errors.append({"field": ["basicCodeDiscount", "code"], "message": "Code can't be blank", "code": "BLANK"})
        if not given.get("title"):
            errors.append({"field": ["basicCodeDiscount", "title"], "message": "Title can't be blank", "code": "BLANK"})
        if not given.get("startsAt"):
            errors.append(
                {"field": ["basicCodeDiscount", "startsAt"], "message": "Starts at can't be blank", "code": "BLANK"}
            )
        gets = given.get("customerGets") or {}
        percentage = (gets.get("value") or {}).get("percentage")
        if not isinstance(percentage, (int, float)) or not 0 < percentage <= 1:
            errors.append(
                {
                    "field": ["basicCodeDiscount", "customerGets", "value", "percentage"],
                    "message": "Value must be between 0.0 and 1.0",
                    "code": "VALUE_OUTSIDE_RANGE",
                }
            )
        everyone = (given.get("context") or {}).get("all") == "ALL" or (given.get("customerSelection") or {}).get(
            "all"
        ) is True
        if not everyone:
            errors.append(
                {"field": ["basicCodeDiscount", "context"], "message": "Context can't be blank", "code": "BLANK"}
            )
        with self._lock:
            existing = self.discounts.setdefault(shop, [])
            if code and any(d["code"].lower() == code.lower() for d in existing):
                errors.append(
                    {
                        "field": ["basicCodeDiscount", "code"],
                        "message": "Code must be unique. Please try a different code.",
                        "code": "TAKEN",
                    }
                )
            if errors:
                return {"codeDiscountNode": None, "userErrors": errors}
            gid = _gid("DiscountCodeNode", next(self._ids))
            existing.append(
                {
                    "id": gid,
                    "code": code,
                    "title": given["title"],
                    "percentage": percentage,
                    "starts_at": given["startsAt"],
                    "usage_limit": given.get("usageLimit"),
                    "once_per_customer": bool(given.get("appliesOncePerCustomer")),
                    "items_all": (gets.get("items") or {}).get("all") is True,
                    "input": given,
                }
            )
        return {"codeDiscountNode": {"id": gid}, "userErrors": []}

    def _store_credit(self, shop: str, variables: dict) -> dict:
        """As Shopify answers: the owner must exist, the amount be positive and in a currency the
        shop sells in; an account per owner and currency is made on the first credit."""
        owner = str(variables.get("id") or "")
        given = variables.get("creditInput") or {}
        money = given.get("creditAmount") or {}
        currency = str(money.get("currencyCode") or "")
        errors = []
        match = re.fullmatch(r"gid://shopify/Customer/(\d+)", owner)
        with self._lock:
            known = match is not None and int(match.group(1)) in self.customers.get(shop, set())
        if not known:
            errors.append({"field": ["id"], "message": "Owner does not exist", "code": "OWNER_NOT_FOUND"})
        if not isinstance(money.get("amount"), str):
            raise _Reply(200, {"errors": [{"message": "Variable $creditInput: amount must be a Decimal string"}]})
        amount = Decimal(money["amount"])
        if amount <= 0:
            errors.append(
                {
                    "field": ["creditInput", "creditAmount", "amount"],
                    "message": "A positive amount must be used to credit a store credit account",
                    "code": "NEGATIVE_OR_ZERO_AMOUNT",
                }
            )
        if currency != self._shop_details(shop)["currencyCode"]:
            errors.append(
                {
                    "field": ["creditInput", "creditAmount", "currencyCode"],
                    "message": "The currency provided is not currently supported",
                    "code": "UNSUPPORTED_CURRENCY",
                }
            )
        if errors:
            return {"storeCreditAccountTransaction": None, "userErrors": errors}
        customer_id = int(match.group(1))  # type: ignore[union-attr]
        with self._lock:
            credits = self.store_credits.setdefault(shop, [])
            credit = {
                "id": _gid("StoreCreditAccountCreditTransaction", next(self._ids)),
                "customer_id": customer_id,
                "amount": format(amount.quantize(Decimal("0.01")), "f"),
                "currency": currency,
                "notify": bool(given.get("notify")),
            }
            credits.append(credit)
            balance = self.store_credit_balance(shop, customer_id, currency)
        return {
            "storeCreditAccountTransaction": {
                "id": credit["id"],
                "amount": {"amount": credit["amount"], "currencyCode": currency},
                "balanceAfterTransaction": {"amount": format(balance, "f"), "currencyCode": currency},
                "account": {"id": _gid("StoreCreditAccount", 9000 + customer_id % 1000)},
            },
            "userErrors": [],
        }

    def _orders(self, shop: str, variables: dict) -> dict:
        first = int(variables.get("first") or 0)
        if not 1 <= first <= 250:
            raise _Reply(200, {"errors": [{"message": "first must be between 1 and 250"}]})
        search = variables.get("query") or ""
        match = re.search(r"created_at:(>=|>)'?([0-9T:\-+.Z]+)'?", search)
        with self._lock:
            nodes = list(self.orders.get(shop, []))
        if match:
            op, bound = match.group(1), _parse_iso(match.group(2))
            nodes = [
                n
                for n in nodes
                if (_parse_iso(n["createdAt"]) >= bound if op == ">=" else _parse_iso(n["createdAt"]) > bound)
            ]
        start = _index(variables.get("after")) + 1
        page = nodes[start : start + first]
        # Refund lines are only answered by the `refund` query, as the app asks for them there.
        shaped = [dict(n, refunds=[{"id": r["id"], "createdAt": r["createdAt"]} for r in n["refunds"]]) for n in page]
        end = start + len(page) - 1
        return {
            "pageInfo": {"hasNextPage": start + first < len(nodes), "endCursor": _cursor(end) if page else None},
            "nodes": shaped,
        }

    def _refund(self, shop: str, variables: dict) -> dict | None:
        with self._lock:
            refund = next(
                (r for o in self.orders.get(shop, []) for r in o["refunds"] if r["id"] == variables.get("id")), None
            )
        if refund is None:
            return None
        lines = refund["refundLineItems"]["nodes"]
        start = _index(variables.get("after")) + 1
        page = lines[start : start + 100]
        return {
            "refundLineItems": {
                "pageInfo": {
                    "hasNextPage": start + 100 < len(lines),
                    "endCursor": _cursor(start + len(page) - 1) if page else None,
                },
                "nodes": page,
            }
        }


class _Handler(BaseHTTPRequestHandler):
    fake: FakeShopify
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {name.title(): value for name, value in self.headers.items()}
        reply = self.fake._handle(self.command, self.path, headers, raw)
        payload = json.dumps(reply.body).encode()
        self.send_response(reply.status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        pass


@pytest.fixture
def fake_shopify():
    with FakeShopify(api_key="test-api-key", api_secret="test-api-secret") as fake:
        yield fake
