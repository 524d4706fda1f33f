"""A creator's own statement, /s/<token>: one creator's codes, links, clicks and orders, never a
buyer's name, e-mail or address; a revoked, rotated, expired or unknown token is a plain 404;
another shop (or another creator) never reaches it; it is rate-limited."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from factories import shop_today
from factories.registry import make_code, make_influencer, make_link
from factories.webhooks import post_recorded_webhook
from models import StatementLink, utcnow
from plugin import rate_limit, statements


@pytest.fixture(autouse=True)
def _fresh_limits(monkeypatch):
    """Each test starts with empty rate-limit windows (they live in the process without Redis)."""
    monkeypatch.setattr(statements.PER_ADDRESS, "_counts", {})
    monkeypatch.setattr(statements.PER_TOKEN, "_counts", {})


def statement_link(api, creator_id):
    response = api.post(f"/api/v1/influencers/{creator_id}/statement-link")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert re.fullmatch(r"https://creator-roi\.test/s/[A-Za-z0-9_-]{43}", body["url"])
    return body["url"].removeprefix("https://creator-roi.test")


@pytest.fixture
def anna(api, client, run_jobs):
    """Anna with her code ANNA15 (order #1001 of Lena Fischer used it), a link, and a statement link."""
    creator = make_influencer(api, name="Anna Lee", handle="anna.lee")
    make_code(api, creator["id"], "ANNA15", percent_off="15")
    link = make_link(api, creator["id"], slug="anna-spring")
    assert post_recorded_webhook(client, "orders_create_code.json").status_code == 200
    run_jobs()
    return {"creator": creator, "link": link, "path": statement_link(api, creator["id"])}


def test_the_statement_shows_the_creators_own_codes_links_and_orders_without_the_buyer(client, anna):
    page = client.get(anna["path"])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Anna Lee" in html and "ANNA15" in html
    assert "https://creator-roi.test/r/anna-spring" in html
    assert 'alt="QR code for https://creator-roi.test/r/anna-spring"' in html
    assert re.search(r'data-metric="orders" data-value="1"', html)
    assert "First" in html
    # The order is there by date and amount; who bought it is not.
    for secret in ("Lena", "Fischer", "lena.fischer@example.com", "Schönhauser", "#1001"):
        assert secret not in html, secret
    # No App Bridge, no session token, no admin script: a page for someone outside the admin.
    assert "app-bridge" not in html and "creator-roi-token" not in html and "app.js" not in html
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_only_the_hash_of_the_token_is_stored(db_session, anna):
    token = anna["path"].removeprefix("/s/")
    stored = db_session.scalars(select(StatementLink.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert token not in str(stored)


def test_a_new_link_revokes_the_old_and_revoking_closes_it(api, client, anna):
    creator_id = anna["creator"]["id"]
    fresh = statement_link(api, creator_id)
    assert client.get(anna["path"]).status_code == 404
    assert client.get(fresh).status_code == 200
    status = api.get(f"/api/v1/influencers/{creator_id}/statement-link").get_json()
    assert status["active"] is True and status["last_viewed_at"] is not None
    assert api.delete(f"/api/v1/influencers/{creator_id}/statement-link").status_code == 204
    assert client.get(fresh).status_code == 404
    assert api.get(f"/api/v1/influencers/{creator_id}/statement-link").get_json()["active"] is False


def test_an_expired_or_unknown_token_is_a_plain_404(client, db_session, anna):
    link = db_session.scalar(select(StatementLink))
    link.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()
    expired = client.get(anna["path"])
    unknown = client.get("/s/" + "x" * 43)
    too_long = client.get("/s/" + "x" * 500)
    assert expired.status_code == unknown.status_code == too_long.status_code == 404
    assert expired.get_data() == unknown.get_data()
    assert "Anna" not in expired.get_data(as_text=True)


def test_the_link_expires_in_ninety_days(api, anna):
    body = api.post(f"/api/v1/influencers/{anna['creator']['id']}/statement-link").get_json()
    from datetime import datetime

    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=89, hours=23) < expires - utcnow() <= timedelta(days=90)


def test_another_shop_never_reaches_a_creators_statement_link(api, other_api, client, anna):
    creator_id = anna["creator"]["id"]
    for method in ("post", "get", "delete"):
        answer = getattr(other_api, method)(f"/api/v1/influencers/{creator_id}/statement-link")
        assert answer.status_code == 404, method
        assert answer.get_json()["errors"]
    assert client.get(anna["path"]).status_code == 200  # untouched: not revoked by the other shop


def test_one_creators_statement_never_shows_anothers(api, other_api, client, anna):
    ben = make_influencer(api, name="Ben Okafor", handle="ben.o")
    make_code(api, ben["id"], "BEN20")
    make_link(api, ben["id"], slug="ben-summer")
    other = make_influencer(other_api, name="Zoe Other", handle="zoe.other")
    make_code(other_api, other["id"], "ZOE10")
    ben_page = client.get(statement_link(api, ben["id"])).get_data(as_text=True)
    anna_page = client.get(anna["path"]).get_data(as_text=True)
    zoe_page = client.get(statement_link(other_api, other["id"])).get_data(as_text=True)
    assert "BEN20" in ben_page and "ben-summer" in ben_page
    assert "ANNA15" not in ben_page and "anna-spring" not in ben_page and 'data-value="0"' in ben_page
    assert "BEN20" not in anna_page and "ben-summer" not in anna_page
    assert "ZOE10" in zoe_page and not any(x in zoe_page for x in ("ANNA15", "BEN20", "Anna Lee"))


def test_statement_requests_are_rate_limited_per_address(client, anna, monkeypatch):
    # The window is a clock minute: hold the clock mid-minute, or the requests could straddle two.
    monkeypatch.setattr(rate_limit, "time", SimpleNamespace(time=lambda: 1_800_000_030.0))
    answers = [client.get(anna["path"]).status_code for _ in range(statements.PER_ADDRESS.limit)]
    assert set(answers) == {200}
    limited = client.get("/s/" + "y" * 43)  # guessing another token from the same address
    assert limited.status_code == 429
    assert 0 < int(limited.headers["Retry-After"]) <= 60
    # Another address is not held up.
    assert client.get(anna["path"], environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 200


def test_the_window_counts_in_redis_when_there_is_one(runtime):
    """Shared by every web process through Redis; kept in the process without it."""
    window = statements.FixedWindow(limit=2, seconds=60, prefix="rl:test")
    redis = runtime.redis()
    assert [window.hit("k", redis, now=120.0) for _ in range(3)] == [0, 0, 60]
    assert window.hit("k", redis, now=185.0) == 0  # the next window starts afresh


def test_the_statement_lists_every_commission_line_and_the_creators_own_payouts(api, client, runtime, db_session, anna):
    from factories import SHOP
    from factories.payouts import make_line, set_payee
    from factories.registry import shop_id_of

    shop_id = shop_id_of(runtime, SHOP)
    mine = anna["creator"]["id"]
    ben = make_influencer(api, name="Ben Okafor", handle="ben.o")
    set_payee(db_session, mine, email="anna@example.com")
    make_line(db_session, shop_id, mine, "40.00", reason="10% of order placed Nov 3")
    make_line(db_session, shop_id, mine, "-3.00", "reversed", reason="refund of $30.00 on Nov 9")
    make_line(db_session, shop_id, mine, "9.50", "pending", reason="10% of order placed Nov 28")
    make_line(db_session, shop_id, ben["id"], "77.00", reason="Ben's own line")
    yesterday = (shop_today() - timedelta(days=1)).isoformat()
    payout = api.post("/api/v1/payouts", json={"period_end": yesterday}).get_json()
    assert payout["total"] == "117.00"
    api.post(f"/api/v1/payouts/{payout['id']}/paid")

    html = client.get(anna["path"]).get_data(as_text=True)
    for reason in ("10% of order placed Nov 3", "refund of $30.00 on Nov 9", "10% of order placed Nov 28"):
        assert reason in html
    assert 'data-state="reversed"' in html and 'data-state="pending"' in html and 'data-state="paid"' in html
    assert "Ben's own line" not in html and "77.00" not in html and "117.00" not in html
    assert re.search(r'<tr data-state="paid">\s*<td>' + yesterday + r"</td>", html)
    assert 'data-metric="paid" data-value="40.00"' in html
    assert 'data-metric="owed" data-value="9.50"' in html
