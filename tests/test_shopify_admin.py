import logging
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from factories import OTHER_SHOP, SHOP
from fake_shopify import fake_shopify  # noqa: F401  (fixture)
from worker import shopify_admin
from worker.shopify_admin import (
    AccessRevoked,
    InvalidSubjectToken,
    RefreshTokenInvalid,
    ShopifyAdminError,
    ShopifyUnavailable,
    TokenSet,
    UserErrors,
    is_valid_shop_domain,
)

UTC = timezone.utc

# The brief's test secret is 15 bytes; PyJWT warns about HMAC keys under 32.
pytestmark = pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")


def graphql_requests(fake):
    return [r for r in fake.requests if r.path.endswith("/graphql.json")]


def install(fake, config, shop=SHOP):
    return shopify_admin.exchange_session_token(config, shop, fake.session_token(shop))


# --- shop domains -------------------------------------------------------------


@pytest.mark.parametrize("value", ["lumen-skin.myshopify.com", "A1.myshopify.com", "x.myshopify.com"])
def test_valid_shop_domains(value):
    assert is_valid_shop_domain(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "lumen-skin",
        "-lumen.myshopify.com",
        "lumen.myshopify.com.evil.com",
        "https://lumen.myshopify.com",
        "lumen.myshopify.com\n",
        "lumen_skin.myshopify.com",
        "lumen.shopify.com",
        None,
    ],
)
def test_invalid_shop_domains(value):
    assert not is_valid_shop_domain(value)


def test_calls_refuse_an_invalid_shop_without_a_request(fake_shopify):
    with pytest.raises(ValueError):
        shopify_admin.fetch_shop(fake_shopify.admin_config(), "evil.com", "shpat_x")
    assert fake_shopify.requests == []


# --- token exchange -------------------------------------------------------------


def test_exchange_returns_an_expiring_offline_token(fake_shopify):
    before = datetime.now(UTC)
    tokens = install(fake_shopify, fake_shopify.admin_config())

    assert tokens.access_token.startswith("shpat_")
    assert tokens.refresh_token.startswith("shprt_")
    assert tokens.scope == "read_orders,read_customers,write_discounts"
    assert before + timedelta(minutes=59) < tokens.expires_at <= before + timedelta(hours=1, seconds=1)
    assert tokens.refresh_token_expires_at > before + timedelta(days=89)
    assert not tokens.needs_refresh(before)
    # The token works against the Admin API.
    assert shopify_admin.fetch_shop(fake_shopify.admin_config(), SHOP, tokens.access_token)["currency"] == "USD"

    (request,) = [r for r in fake_shopify.requests if r.path.endswith("/access_token")]
    assert request.path == "/admin/oauth/access_token"
    assert request.headers["Host"] == SHOP
    assert request.json["grant_type"] == "urn:ietf:params:oauth:grant-type:token-exchange"
    assert request.json["requested_token_type"] == "urn:shopify:params:oauth:token-type:offline-access-token"
    assert request.json["expiring"] == 1
    assert request.json["client_id"] == "test-api-key"
    assert request.json["client_secret"] == request.json["subject_token"] == "[REDACTED]"


def test_exchange_sends_the_real_session_token(fake_shopify):
    config = fake_shopify.admin_config()
    forged = fake_shopify.session_token(SHOP, secret="not-the-app-secret")
    with pytest.raises(InvalidSubjectToken):
        shopify_admin.exchange_session_token(config, SHOP, forged)
    # A genuine token for another shop is no good for this one.
    with pytest.raises(InvalidSubjectToken):
        shopify_admin.exchange_session_token(config, SHOP, fake_shopify.session_token(OTHER_SHOP))
    expired = fake_shopify.session_token(SHOP, lifetime=-60)
    with pytest.raises(InvalidSubjectToken):
        shopify_admin.exchange_session_token(config, SHOP, expired)


def test_exchange_invalid_subject_token(fake_shopify):
    fake_shopify.reject_subject_tokens = True
    with pytest.raises(InvalidSubjectToken) as excinfo:
        install(fake_shopify, fake_shopify.admin_config())
    assert excinfo.value.status == 400


def test_exchange_with_a_wrong_secret_is_not_a_session_problem(fake_shopify):
    config = fake_shopify.admin_config(api_secret="wrong-secret")
    with pytest.raises(ShopifyAdminError) as excinfo:
        install(fake_shopify, config)
    assert not isinstance(excinfo.value, InvalidSubjectToken)
    assert excinfo.value.status == 400
    assert "invalid_client" in excinfo.value.message


def test_shopify_accepts_either_secret_during_its_rotation_window(fake_shopify):
    fake_shopify.api_secret, fake_shopify.old_api_secret = "the-next-secret", "test-api-secret"
    config = fake_shopify.admin_config(api_secret="the-next-secret", old_api_secret="test-api-secret")
    signed_before_rotation = fake_shopify.session_token(SHOP, secret="test-api-secret")
    assert shopify_admin.exchange_session_token(config, SHOP, signed_before_rotation).access_token
    signed_after = fake_shopify.session_token(SHOP, secret="the-next-secret")
    assert shopify_admin.exchange_session_token(config, SHOP, signed_after).access_token


def test_exchange_falls_back_to_the_old_secret_when_shopify_does_not_know_the_new_one(fake_shopify):
    config = fake_shopify.admin_config(api_secret="the-next-secret", old_api_secret="test-api-secret")
    tokens = install(fake_shopify, config)
    assert tokens.access_token.startswith("shpat_")
    assert len([r for r in fake_shopify.requests if r.path.endswith("/access_token")]) == 2


def test_exchange_during_a_shopify_outage_is_unavailable(fake_shopify):
    # shopify_app retries a token exchange only on 429; a 5xx is the caller's to retry later.
    fake_shopify.fail_next(1, status=503)
    with pytest.raises(ShopifyUnavailable) as excinfo:
        install(fake_shopify, fake_shopify.admin_config())
    assert excinfo.value.status == 503


# --- routing to admin_base_url ----------------------------------------------------


def test_base_url_without_shop_keeps_the_shop_in_the_host_header(fake_shopify):
    config = fake_shopify.admin_config()
    token = fake_shopify.issue_token(SHOP)
    shopify_admin.fetch_shop(config, SHOP, token)
    (request,) = graphql_requests(fake_shopify)
    assert request.path == "/admin/api/2026-10/graphql.json"
    assert request.headers["Host"] == SHOP
    assert request.headers["X-Shopify-Access-Token"] == "[REDACTED]"  # sent, and only as this header


def test_base_url_with_shop_puts_it_in_the_path(fake_shopify):
    config = fake_shopify.admin_config(admin_base_url=fake_shopify.base_url + "/{shop}/")
    tokens = install(fake_shopify, config)
    shopify_admin.fetch_shop(config, SHOP, tokens.access_token)
    assert [r.path for r in fake_shopify.requests] == [
        f"/{SHOP}/admin/oauth/access_token",
        f"/{SHOP}/admin/api/2026-10/graphql.json",
    ]


def test_shops_are_told_apart(fake_shopify):
    config = fake_shopify.admin_config()
    fake_shopify.set_shop(OTHER_SHOP, name="Other Store", currencyCode="EUR")
    token = fake_shopify.issue_token(SHOP)
    other_token = fake_shopify.issue_token(OTHER_SHOP)
    assert shopify_admin.fetch_shop(config, OTHER_SHOP, other_token)["currency"] == "EUR"
    with pytest.raises(AccessRevoked):
        shopify_admin.fetch_shop(config, OTHER_SHOP, token)


# --- refresh ---------------------------------------------------------------------


def test_refresh_gives_a_new_pair_and_spends_the_old_refresh_token(fake_shopify):
    config = fake_shopify.admin_config()
    tokens = install(fake_shopify, config)
    fresh = shopify_admin.refresh_tokens(config, SHOP, tokens)

    assert fresh.access_token != tokens.access_token
    assert fresh.refresh_token != tokens.refresh_token
    assert fresh.scope == tokens.scope
    assert fresh.expires_at > datetime.now(UTC) + timedelta(minutes=59)
    assert shopify_admin.fetch_shop(config, SHOP, fresh.access_token)["name"] == "Lumen Skin"
    (request,) = [r for r in fake_shopify.requests if r.json and r.json.get("grant_type") == "refresh_token"]
    assert request.json["refresh_token"] == "[REDACTED]"

    with pytest.raises(RefreshTokenInvalid) as excinfo:
        shopify_admin.refresh_tokens(config, SHOP, tokens)
    assert isinstance(excinfo.value, AccessRevoked)


def test_refresh_survives_two_server_errors(fake_shopify):
    config = fake_shopify.admin_config()
    tokens = install(fake_shopify, config)
    fake_shopify.fail_next(2, status=502)
    assert shopify_admin.refresh_tokens(config, SHOP, tokens).access_token != tokens.access_token


def test_refresh_happens_even_while_shopify_app_would_call_the_token_fresh(fake_shopify):
    # needs_refresh uses a 5 minute margin; shopify_app alone would skip the call above 60 s.
    config = fake_shopify.admin_config()
    tokens = install(fake_shopify, config)
    soon = TokenSet(
        tokens.access_token,
        tokens.scope,
        datetime.now(UTC) + timedelta(minutes=3),
        tokens.refresh_token,
        tokens.refresh_token_expires_at,
    )
    assert soon.needs_refresh(datetime.now(UTC))
    assert shopify_admin.refresh_tokens(config, SHOP, soon).access_token != tokens.access_token


def test_refresh_with_an_expired_refresh_token_asks_for_a_new_exchange(fake_shopify):
    config = fake_shopify.admin_config()
    tokens = install(fake_shopify, config)
    stale = TokenSet(
        tokens.access_token,
        tokens.scope,
        datetime.now(UTC) - timedelta(hours=1),
        tokens.refresh_token,
        datetime.now(UTC) - timedelta(seconds=1),
    )
    sent = len(fake_shopify.requests)
    with pytest.raises(RefreshTokenInvalid):
        shopify_admin.refresh_tokens(config, SHOP, stale)
    assert len(fake_shopify.requests) == sent


def test_refresh_after_uninstall_is_refused(fake_shopify):
    config = fake_shopify.admin_config()
    tokens = install(fake_shopify, config)
    fake_shopify.revoke(SHOP)
    with pytest.raises(RefreshTokenInvalid):
        shopify_admin.refresh_tokens(config, SHOP, tokens)


def test_a_non_expiring_token_is_left_alone(fake_shopify):
    tokens = TokenSet("shpat_custom", "read_orders", None, None, None)
    assert not tokens.needs_refresh(datetime.now(UTC))
    assert shopify_admin.refresh_tokens(fake_shopify.admin_config(), SHOP, tokens) is tokens
    assert fake_shopify.requests == []


def test_needs_refresh_margin_and_naive_datetimes():
    expires = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)
    tokens = TokenSet("a", "", expires, "r", None)
    assert not tokens.needs_refresh(expires - timedelta(minutes=6))
    assert tokens.needs_refresh(expires - timedelta(minutes=4))
    assert tokens.needs_refresh(expires - timedelta(minutes=4), margin=timedelta(minutes=3)) is False
    naive = TokenSet("a", "", expires.replace(tzinfo=None), "r", None)  # as SQLite returns it
    assert naive.needs_refresh(expires)


def test_tokens_do_not_show_in_repr():
    tokens = TokenSet("shpat_secret", "", None, "shprt_secret", None)
    assert "secret" not in repr(tokens)


# --- GraphQL retries and errors ------------------------------------------------------


def test_graphql_retries_after_two_throttles(fake_shopify):
    config = fake_shopify.admin_config()
    token = fake_shopify.issue_token(SHOP)
    fake_shopify.throttle_next(2)
    data = shopify_admin.graphql(config, SHOP, token, "query { shop { name } }")
    assert data == {"shop": fake_shopify.set_shop(SHOP)}
    assert len(graphql_requests(fake_shopify)) == 3


def test_graphql_retries_after_a_503(fake_shopify):
    config = fake_shopify.admin_config()
    token = fake_shopify.issue_token(SHOP)
    fake_shopify.fail_next(1, status=503)
    assert shopify_admin.fetch_shop(config, SHOP, token)["shopify_id"] == 71829364501
    assert len(graphql_requests(fake_shopify)) == 2


def test_graphql_retries_after_a_500(fake_shopify):
    # shopify_app retries only 502-504; a 500 is retried by us.
    config = fake_shopify.admin_config()
    token = fake_shopify.issue_token(SHOP)
    fake_shopify.fail_next(2, status=500)
    assert shopify_admin.fetch_shop(config, SHOP, token)["name"] == "Lumen Skin"
    assert len(graphql_requests(fake_shopify)) == 3


def test_graphql_retries_after_a_429(fake_shopify):
    # shopify_app waits 1 s whatever Retry-After says (it looks the header up
    # with the wrong case), so a fractional "2.0" cannot trip its int().
    config = fake_shopify.admin_config()
    token = fake_shopify.issue_token(SHOP)
    fake_shopify.rate_limit_next(1, retry_after="2.0")
    assert shopify_admin.fetch_shop(config, SHOP, token)["name"] == "Lumen Skin"
    assert len(graphql_requests(fake_shopify)) == 2


def test_graphql_gives_up_after_its_attempts(fake_shopify):
    config = fake_shopify.admin_config(max_attempts=3)
    token = fake_shopify.issue_token(SHOP)
    fake_shopify.throttle_next(10)
    with pytest.raises(ShopifyUnavailable) as excinfo:
        shopify_admin.fetch_shop(config, SHOP, token)
    assert "throttled" in excinfo.value.message
    assert len(graphql_requests(fake_shopify)) == 3


def test_graphql_top_level_errors_raise(fake_shopify):
    token = fake_shopify.issue_token(SHOP)
    with pytest.raises(ShopifyAdminError, match="does not know the query") as excinfo:
        shopify_admin.graphql(fake_shopify.admin_config(), SHOP, token, "query { nothing }")
    assert not isinstance(excinfo.value, ShopifyUnavailable)
    assert len(graphql_requests(fake_shopify)) == 1


def test_revoked_token_raises_access_revoked(fake_shopify):
    config = fake_shopify.admin_config()
    tokens = install(fake_shopify, config)
    fake_shopify.revoke(SHOP)
    with pytest.raises(AccessRevoked) as excinfo:
        shopify_admin.fetch_shop(config, SHOP, tokens.access_token)
    assert excinfo.value.status == 401
    assert tokens.access_token not in str(excinfo.value)
    assert len(graphql_requests(fake_shopify)) == 1  # a 401 is not retried


def test_unreachable_shopify_is_unavailable(fake_shopify):
    config = fake_shopify.admin_config()
    token = fake_shopify.issue_token(SHOP)
    fake_shopify.stop()
    with pytest.raises(ShopifyUnavailable):
        shopify_admin.fetch_shop(config, SHOP, token)


def test_error_messages_never_carry_a_token():
    error = ShopifyAdminError("Shopify said shpat_0123456789abcdef was bad")
    assert "shpat_0123" not in str(error)


# --- shop and discounts ------------------------------------------------------------


def test_fetch_shop(fake_shopify):
    token = fake_shopify.issue_token(SHOP)
    assert shopify_admin.fetch_shop(fake_shopify.admin_config(), SHOP, token) == {
        "name": "Lumen Skin",
        "currency": "USD",
        "timezone": "America/New_York",
        "shopify_id": 71829364501,
    }


def test_create_discount_code(fake_shopify):
    token = fake_shopify.issue_token(SHOP)
    gid = shopify_admin.create_discount_code(
        fake_shopify.admin_config(),
        SHOP,
        token,
        code="ANNA15",
        title="Anna Lee 15%",
        percent_off=Decimal("15"),
        starts_at=datetime(2026, 10, 1, 8, 0, tzinfo=timezone(timedelta(hours=-4))),
        usage_limit=500,
        once_per_customer=True,
    )
    assert gid.startswith("gid://shopify/DiscountCodeNode/")
    (created,) = fake_shopify.discounts[SHOP]
    assert created["id"] == gid
    assert created["code"] == "ANNA15"
    assert created["percentage"] == 0.15
    assert created["starts_at"] == "2026-10-01T12:00:00Z"
    assert created["usage_limit"] == 500
    assert created["once_per_customer"] is True
    assert created["items_all"] is True
    assert created["input"]["context"] == {"all": "ALL"}


def test_create_discount_code_taken_raises_user_errors(fake_shopify):
    config = fake_shopify.admin_config()
    token = fake_shopify.issue_token(SHOP)
    args = dict(title="Anna", percent_off=Decimal("10"), starts_at=datetime(2026, 10, 1, tzinfo=UTC))
    shopify_admin.create_discount_code(config, SHOP, token, code="ANNA15", **args)
    with pytest.raises(UserErrors) as excinfo:
        shopify_admin.create_discount_code(config, SHOP, token, code="anna15", **args)
    assert excinfo.value.errors == [
        {
            "field": ["basicCodeDiscount", "code"],
            "message": "Code must be unique. Please try a different code.",
            "code": "TAKEN",
        }
    ]
    assert excinfo.value.codes == ["TAKEN"]
    # Codes belong to a shop: another shop may use the same one.
    other_token = fake_shopify.issue_token(OTHER_SHOP)
    shopify_admin.create_discount_code(config, OTHER_SHOP, other_token, code="ANNA15", **args)


@pytest.mark.parametrize("percent_off", [Decimal("0"), Decimal("-5"), Decimal("100.01")])
def test_create_discount_code_refuses_impossible_percentages(fake_shopify, percent_off):
    with pytest.raises(ValueError):
        shopify_admin.create_discount_code(
            fake_shopify.admin_config(),
            SHOP,
            "shpat_x",
            code="X",
            title="X",
            percent_off=percent_off,
            starts_at=datetime.now(UTC),
        )
    assert fake_shopify.requests == []


# --- orders ------------------------------------------------------------------------


def test_fetch_orders_paginates_250_orders_in_pages_of_100(fake_shopify):
    token = fake_shopify.issue_token(SHOP)
    since = datetime(2026, 10, 1, tzinfo=UTC)
    fake_shopify.add_order(SHOP, created_at=since - timedelta(seconds=1))  # before the window
    for n in range(250):
        fake_shopify.add_order(
            SHOP, id=6000000000000 + n, created_at=since + timedelta(minutes=n), subtotal=Decimal("19.99") + n
        )

    orders = list(shopify_admin.fetch_orders(fake_shopify.admin_config(), SHOP, token, since=since))

    assert [o["id"] for o in orders] == [6000000000000 + n for n in range(250)]
    assert all(isinstance(o["id"], int) for o in orders)
    assert orders[249]["subtotal_price_set"] == {
        "shop_money": {"amount": "268.99", "currency_code": "USD"},
        "presentment_money": {"amount": "268.99", "currency_code": "USD"},
    }
    assert sum(Decimal(o["subtotal_price_set"]["shop_money"]["amount"]) for o in orders) == Decimal(
        "19.99"
    ) * 250 + sum(range(250))
    pages = [r for r in graphql_requests(fake_shopify) if "orders(" in r.json["query"]]
    assert [r.json["variables"]["first"] for r in pages] == [100, 100, 100]
    assert pages[0].json["variables"]["after"] is None
    assert pages[0].json["variables"]["query"] == "created_at:>='2026-10-01T00:00:00Z'"


def test_fetch_orders_converts_to_the_webhook_payload_shape(fake_shopify):
    token = fake_shopify.issue_token(SHOP)
    fake_shopify.add_order(
        SHOP,
        id=6012345678901,
        name="#1001",
        created_at="2026-10-15T23:47:19Z",
        updated_at="2026-10-17T13:05:44Z",
        subtotal="95.91",
        discount_codes=["ANNA15"],
        landing_page=f"https://{SHOP}/?ref=anna-lee&crid=01JD3K8Q2W&utm_source=instagram",
        custom_attributes={"how_did_you_hear": "@anna.lee on TikTok"},
        customer_id=8123460001234,
        financial_status="PARTIALLY_REFUNDED",
        refunds=[{"id": 912345678901, "created_at": "2026-10-16T15:20:31Z", "subtotals": ["36.89", "0.10"]}],
    )
    fake_shopify.add_order(
        SHOP,
        id=6012349876543,
        created_at="2026-10-16T10:00:00Z",
        test=True,
        cancelled_at="2026-10-16T11:00:00Z",
        financial_status="VOIDED",
    )

    first, second = shopify_admin.fetch_orders(
        fake_shopify.admin_config(), SHOP, token, since=datetime(2026, 10, 1, tzinfo=UTC)
    )

    assert first == {
        "id": 6012345678901,
        "admin_graphql_api_id": "gid://shopify/Order/6012345678901",
        "name": "#1001",
        "created_at": "2026-10-15T23:47:19Z",
        "updated_at": "2026-10-17T13:05:44Z",
        "processed_at": "2026-10-15T23:47:19Z",
        "cancelled_at": None,
        "test": False,
        "source_name": "web",
        "currency": "USD",
        "financial_status": "partially_refunded",
        "landing_site": "/?ref=anna-lee&crid=01JD3K8Q2W&utm_source=instagram",
        "discount_codes": [{"code": "ANNA15"}],
        "note_attributes": [{"name": "how_did_you_hear", "value": "@anna.lee on TikTok"}],
        "customer": {"id": 8123460001234},
        "subtotal_price_set": {
            "shop_money": {"amount": "95.91", "currency_code": "USD"},
            "presentment_money": {"amount": "95.91", "currency_code": "USD"},
        },
        "refunds": [
            {
                "id": 912345678901,
                "created_at": "2026-10-16T15:20:31Z",
                "refund_line_items": [
                    {"subtotal_set": {"shop_money": {"amount": "36.89", "currency_code": "USD"}}},
                    {"subtotal_set": {"shop_money": {"amount": "0.10", "currency_code": "USD"}}},
                ],
            }
        ],
    }
    net = Decimal(first["subtotal_price_set"]["shop_money"]["amount"]) - sum(
        Decimal(line["subtotal_set"]["shop_money"]["amount"])
        for refund in first["refunds"]
        for line in refund["refund_line_items"]
    )
    assert net == Decimal("58.92")
    assert second["test"] is True
    assert second["cancelled_at"] == "2026-10-16T11:00:00Z"
    assert second["financial_status"] == "voided"
    assert second["customer"] is None
    assert second["landing_site"] is None
    assert second["discount_codes"] == second["note_attributes"] == second["refunds"] == []


def test_fetch_orders_of_a_shop_without_orders(fake_shopify):
    token = fake_shopify.issue_token(SHOP)
    assert (
        list(
            shopify_admin.fetch_orders(fake_shopify.admin_config(), SHOP, token, since=datetime(2026, 1, 1, tzinfo=UTC))
        )
        == []
    )


# --- logs ------------------------------------------------------------------------------


def test_logs_never_carry_a_token_or_secret(fake_shopify, caplog):
    caplog.set_level(logging.DEBUG)
    config = fake_shopify.admin_config()
    session_token = fake_shopify.session_token(SHOP)
    tokens = shopify_admin.exchange_session_token(config, SHOP, session_token)
    fresh = shopify_admin.refresh_tokens(config, SHOP, tokens)
    fake_shopify.throttle_next(1)
    fake_shopify.add_order(SHOP, refunds=[{"subtotals": ["5.00"]}])
    list(shopify_admin.fetch_orders(config, SHOP, fresh.access_token, since=datetime(2026, 1, 1, tzinfo=UTC)))
    fake_shopify.revoke(SHOP)
    with pytest.raises(AccessRevoked):
        shopify_admin.fetch_shop(config, SHOP, fresh.access_token)

    text = caplog.text
    assert "op=token_exchange status=ok" in text
    assert "op=token_refresh status=ok" in text
    assert "status=throttled" in text
    assert f"shop={SHOP} op=graphql operation=CreatorRoiOrders status=ok" in text
    assert "status=unauthorized" in text
    for secret in (
        session_token,
        tokens.access_token,
        tokens.refresh_token,
        fresh.access_token,
        fresh.refresh_token,
        "test-api-secret",
    ):
        assert secret not in text
    assert "shpat_" not in text and "shprt_" not in text
