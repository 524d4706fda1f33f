"""Payouts through the API: made from approved lines up to the period's end for creators owed the
shop's minimum, clawbacks netted, paid once however often it is asked, cancelled back to
approved, exported for PayPal, Wise or a spreadsheet without anyone lacking a payout e-mail,
paid as Shopify store credit against the fake Shopify; another shop never reaches one."""

from __future__ import annotations

import csv
import html
import io
from datetime import datetime, timedelta, timezone

import pytest

from factories import SHOP, shop_today
from factories.payouts import line_states, make_line, set_minimum, set_payee
from factories.registry import make_influencer, shop_id_of

YESTERDAY = (shop_today() - timedelta(days=1)).isoformat()


@pytest.fixture
def ledger(api, runtime, db_session):
    """Anna: 60.00 approved, 12.00 held, 9.00 pending; Ben: 20.00 approved; Chloe: 30.00 approved,
    no payout e-mail."""
    shop_id = shop_id_of(runtime, SHOP)
    anna = make_influencer(api, name="Anna Lee")
    ben = make_influencer(api, name="Ben Okafor")
    chloe = make_influencer(api, name="Chloe Park")
    set_payee(db_session, anna["id"], email="anna@example.com")
    set_payee(db_session, ben["id"], email="ben@example.com")
    lines = {
        "anna_a": make_line(db_session, shop_id, anna["id"], "40.00").id,
        "anna_b": make_line(db_session, shop_id, anna["id"], "20.00").id,
        "anna_held": make_line(db_session, shop_id, anna["id"], "12.00", "held").id,
        "anna_pending": make_line(db_session, shop_id, anna["id"], "9.00", "pending").id,
        "ben": make_line(db_session, shop_id, ben["id"], "20.00").id,
        "chloe": make_line(db_session, shop_id, chloe["id"], "30.00").id,
    }
    return {"shop_id": shop_id, "anna": anna["id"], "ben": ben["id"], "chloe": chloe["id"], "lines": lines}


def make_payout(api, period_end=YESTERDAY):
    response = api.post("/api/v1/payouts", json={"period_end": period_end})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_a_payout_gathers_approved_lines_of_creators_owed_the_minimum(api, db_session, ledger):
    payout = make_payout(api)
    assert payout["state"] == "open" and payout["total"] == "90.00" and payout["period_end"] == YESTERDAY
    rows = {row["influencer_id"]: row for row in payout["rows"]}
    assert set(rows) == {ledger["anna"], ledger["chloe"]}
    anna = rows[ledger["anna"]]
    assert (anna["amount"], anna["earned"], anna["clawed_back"], anna["held"]) == ("60.00", "60.00", "0.00", "12.00")
    assert sorted(line["id"] for line in anna["lines"]) == sorted(
        [ledger["lines"]["anna_a"], ledger["lines"]["anna_b"]]
    )
    assert [(r["name"], r["amount"]) for r in payout["below_minimum"]] == [("Ben Okafor", "20.00")]
    assert payout["without_payout_email"] == [{"influencer_id": ledger["chloe"], "name": "Chloe Park"}]
    states = line_states(db_session, ledger["shop_id"])
    lines = ledger["lines"]
    assert states[lines["anna_a"]] == ("in_payout", payout["id"])
    assert states[lines["anna_held"]] == ("held", None)
    assert states[lines["anna_pending"]] == ("pending", None)
    assert states[lines["ben"]] == ("approved", None)  # under the minimum: waits
    assert api.get(f"/api/v1/payouts/{payout['id']}").get_json()["total"] == "90.00"
    assert [p["id"] for p in api.get("/api/v1/payouts").get_json()["payouts"]] == [payout["id"]]


def test_lines_approved_after_the_period_wait_for_a_later_payout(api, db_session, ledger):
    late = make_line(
        db_session, ledger["shop_id"], ledger["anna"], "500.00", approved=datetime.now(timezone.utc) + timedelta(days=3)
    )
    payout = make_payout(api)
    anna = next(r for r in payout["rows"] if r["influencer_id"] == ledger["anna"])
    assert anna["amount"] == "60.00"
    assert line_states(db_session, ledger["shop_id"])[late.id] == ("approved", None)


def test_paying_twice_changes_nothing(api, db_session, ledger):
    payout = make_payout(api)
    paid = api.post(f"/api/v1/payouts/{payout['id']}/paid")
    assert paid.status_code == 200
    first = paid.get_json()
    assert first["state"] == "paid" and first["method"] == "export" and first["paid_at"]
    states = line_states(db_session, ledger["shop_id"])
    assert states[ledger["lines"]["anna_a"]] == ("paid", payout["id"])
    again = api.post(f"/api/v1/payouts/{payout['id']}/paid")
    assert again.status_code == 200 and again.get_json() == first
    assert line_states(db_session, ledger["shop_id"]) == states
    refused = api.post(f"/api/v1/payouts/{payout['id']}/cancel")
    assert refused.status_code == 409 and "paid" in refused.get_json()["errors"]["state"][0]


def test_cancelling_puts_the_lines_back_for_the_next_payout(api, db_session, ledger):
    before = line_states(db_session, ledger["shop_id"])
    payout = make_payout(api)
    cancelled = api.post(f"/api/v1/payouts/{payout['id']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.get_json()["state"] == "cancelled" and cancelled.get_json()["rows"] == []
    assert line_states(db_session, ledger["shop_id"]) == before
    assert api.post(f"/api/v1/payouts/{payout['id']}/cancel").get_json()["state"] == "cancelled"
    assert api.post(f"/api/v1/payouts/{payout['id']}/paid").status_code == 409
    assert api.get(f"/api/v1/payouts/{payout['id']}.csv").status_code == 409
    # The same lines make the next payout.
    assert make_payout(api)["total"] == "90.00"


def test_the_shops_minimum_decides_who_is_paid(api, db_session, ledger):
    set_minimum(db_session, ledger["shop_id"], "20.00")
    assert {r["influencer_id"] for r in make_payout(api)["rows"]} == {ledger["anna"], ledger["ben"], ledger["chloe"]}


def test_the_merchant_sets_the_minimum_and_the_holding_period_in_the_shop_settings(api, ledger):
    saved = api.patch("/api/v1/shop/settings", json={"payout_minimum": "25.00", "commission_holding_days": 0})
    assert saved.status_code == 200, saved.get_json()
    assert (saved.get_json()["payout_minimum"], saved.get_json()["commission_holding_days"]) == ("25.00", 0)
    assert api.get("/api/v1/shop").get_json()["settings"]["commission_holding_days"] == 0
    # Ben is owed 20.00: under the new 25.00 minimum he waits for the next payout.
    assert {r["influencer_id"] for r in make_payout(api)["rows"]} == {ledger["anna"], ledger["chloe"]}
    bad = api.patch("/api/v1/shop/settings", json={"commission_holding_days": 121, "payout_minimum": "-1"})
    assert bad.status_code == 422 and set(bad.get_json()["errors"]) == {"commission_holding_days", "payout_minimum"}
    assert api.get("/api/v1/shop").get_json()["settings"]["payout_minimum"] == "25.00"


def test_nobody_at_the_minimum_makes_no_payout(api, db_session, ledger):
    set_minimum(db_session, ledger["shop_id"], "1000.00")
    refused = api.post("/api/v1/payouts", json={"period_end": YESTERDAY})
    assert refused.status_code == 422 and "1000.00" in refused.get_json()["errors"]["period_end"][0]
    assert api.get("/api/v1/payouts").get_json()["payouts"] == []


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "period_end"), ({"period_end": "next week"}, "period_end"), ({"period_end": "2999-01-01"}, "period_end")],
)
def test_a_bad_period_end_is_named(api, ledger, body, field):
    answer = api.post("/api/v1/payouts", json=body)
    assert answer.status_code == 422 and field in answer.get_json()["errors"]


def test_a_clawback_nets_against_the_next_payout(api, db_session, ledger):
    clawback = make_line(db_session, ledger["shop_id"], ledger["anna"], "-7.00", "clawed_back")
    payout = make_payout(api)
    anna = next(r for r in payout["rows"] if r["influencer_id"] == ledger["anna"])
    assert (anna["earned"], anna["clawed_back"], anna["amount"]) == ("60.00", "-7.00", "53.00")
    assert payout["total"] == "83.00"
    assert line_states(db_session, ledger["shop_id"])[clawback.id] == ("clawed_back", payout["id"])
    api.post(f"/api/v1/payouts/{payout['id']}/paid")
    # Netted once: the next payout does not take it again.
    make_line(db_session, ledger["shop_id"], ledger["anna"], "30.00")
    nxt = make_payout(api)
    assert next(r for r in nxt["rows"] if r["influencer_id"] == ledger["anna"])["amount"] == "30.00"


def test_a_cancelled_payout_releases_its_clawbacks(api, db_session, ledger):
    clawback = make_line(db_session, ledger["shop_id"], ledger["anna"], "-7.00", "clawed_back")
    payout = make_payout(api)
    api.post(f"/api/v1/payouts/{payout['id']}/cancel")
    assert line_states(db_session, ledger["shop_id"])[clawback.id] == ("clawed_back", None)


def export(api, payout_id, kind):
    answer = api.get(f"/api/v1/payouts/{payout_id}.csv?format={kind}")
    assert answer.status_code == 200, answer.get_json()
    assert answer.mimetype == "text/csv"
    return answer, list(csv.reader(io.StringIO(answer.get_data(as_text=True))))


def test_exports_leave_out_and_name_creators_without_a_payout_email(api, ledger):
    payout = make_payout(api)
    chloe = str(ledger["chloe"])
    answer, rows = export(api, payout["id"], "paypal")
    assert rows == [
        ["anna@example.com", "60.00", "USD", f"payout-{payout['id']}-{ledger['anna']}", rows[0][4], "PAYPAL"]
    ]
    assert answer.headers["X-Payout-Left-Out"] == chloe
    assert "attachment" in answer.headers["Content-Disposition"]
    answer, rows = export(api, payout["id"], "wise")
    assert rows[0][:2] == ["name", "recipientEmail"] and [r[1] for r in rows[1:]] == ["anna@example.com"]
    assert answer.headers["X-Payout-Left-Out"] == chloe
    answer, rows = export(api, payout["id"], "generic")
    assert [r[3] for r in rows[1:-1]] == ["Anna Lee"]
    assert rows[-1] == [f"# not in this file, no payout e-mail: Chloe Park (id {chloe}, 30.00)"]
    assert api.get(f"/api/v1/payouts/{payout['id']}.csv?format=venmo").status_code == 422


def test_everyone_with_an_email_leaves_the_header_empty(api, db_session, ledger):
    set_payee(db_session, ledger["chloe"], email="chloe@example.com")
    answer, rows = export(api, make_payout(api)["id"], "paypal")
    assert answer.headers["X-Payout-Left-Out"] == "" and len(rows) == 2


def test_another_shop_never_reaches_a_payout(api, other_api, ledger):
    payout = make_payout(api)
    for method, path in [
        ("get", f"/api/v1/payouts/{payout['id']}"),
        ("post", f"/api/v1/payouts/{payout['id']}/paid"),
        ("post", f"/api/v1/payouts/{payout['id']}/cancel"),
        ("get", f"/api/v1/payouts/{payout['id']}.csv?format=generic"),
    ]:
        answer = getattr(other_api, method)(path)
        assert answer.status_code == 404, (method, path)
        assert answer.get_json()["errors"]
    assert other_api.get("/api/v1/payouts").get_json()["payouts"] == []
    # Shop B's payout takes none of shop A's lines.
    assert other_api.post("/api/v1/payouts", json={"period_end": YESTERDAY}).status_code == 422
    assert api.get(f"/api/v1/payouts/{payout['id']}").get_json()["state"] == "open"


# --- store credit, against the fake Shopify ----------------------------------------------------


def test_paying_in_store_credit_credits_each_creators_customer_once(api, db_session, fake_shopify, ledger):
    set_payee(db_session, ledger["anna"], email="anna@example.com", customer_id=7001)
    set_payee(db_session, ledger["chloe"], customer_id=7002)
    fake_shopify.add_customer(SHOP, 7001)
    fake_shopify.add_customer(SHOP, 7002)
    payout = make_payout(api)
    paid = api.post(f"/api/v1/payouts/{payout['id']}/paid", json={"method": "store_credit"})
    assert paid.status_code == 200, paid.get_json()
    body = paid.get_json()
    assert body["state"] == "paid" and body["method"] == "store_credit"
    assert all(
        r["store_credit_transaction_id"].startswith("gid://shopify/StoreCreditAccountCreditTransaction/")
        for r in body["rows"]
    )
    assert fake_shopify.store_credit_balance(SHOP, 7001) == 60 and fake_shopify.store_credit_balance(SHOP, 7002) == 30
    sent = [r.json for r in fake_shopify.requests if r.json and "storeCreditAccountCredit" in str(r.json.get("query"))]
    assert sent[0]["variables"]["id"] == "gid://shopify/Customer/7001"
    assert sent[0]["variables"]["creditInput"]["creditAmount"] == {"amount": "60.00", "currencyCode": "USD"}
    # Paying again credits nobody again.
    assert api.post(f"/api/v1/payouts/{payout['id']}/paid", json={"method": "store_credit"}).get_json() == body
    assert fake_shopify.store_credit_balance(SHOP, 7001) == 60


def test_store_credit_needs_each_creators_customer(api, db_session, fake_shopify, ledger):
    payout = make_payout(api)
    refused = api.post(f"/api/v1/payouts/{payout['id']}/paid", json={"method": "store_credit"})
    assert refused.status_code == 422
    assert "Anna Lee" in refused.get_json()["errors"]["method"][0]
    assert api.get(f"/api/v1/payouts/{payout['id']}").get_json()["state"] == "open"
    assert api.post(f"/api/v1/payouts/{payout['id']}/paid", json={"method": "cash"}).status_code == 422


def test_a_store_credit_failure_halfway_is_finished_by_asking_again(api, db_session, runtime, fake_shopify, ledger):
    runtime.admin = fake_shopify.admin_config()  # the same Shopify, waiting milliseconds between attempts
    set_payee(db_session, ledger["anna"], email="anna@example.com", customer_id=7001)
    set_payee(db_session, ledger["chloe"], customer_id=7002)
    fake_shopify.add_customer(SHOP, 7001)
    payout = make_payout(api)
    # Chloe's customer does not exist in Shopify: Anna is credited and kept, the payout stays open.
    refused = api.post(f"/api/v1/payouts/{payout['id']}/paid", json={"method": "store_credit"})
    assert refused.status_code == 422 and "Owner does not exist" in refused.get_json()["errors"]["method"][0]
    state = api.get(f"/api/v1/payouts/{payout['id']}").get_json()
    assert state["state"] == "open"
    assert [r["store_credit_transaction_id"] is not None for r in state["rows"]] == [True, False]
    assert api.post(f"/api/v1/payouts/{payout['id']}/cancel").status_code == 409  # Anna holds the credit
    fake_shopify.add_customer(SHOP, 7002)
    fake_shopify.fail_next(3, status=500)
    unavailable = api.post(f"/api/v1/payouts/{payout['id']}/paid", json={"method": "store_credit"})
    assert unavailable.status_code == 502 and "1 of 2" in unavailable.get_json()["errors"]["method"][0]
    done = api.post(f"/api/v1/payouts/{payout['id']}/paid", json={"method": "store_credit"})
    assert done.status_code == 200 and done.get_json()["state"] == "paid"
    assert fake_shopify.store_credit_balance(SHOP, 7001) == 60 and fake_shopify.store_credit_balance(SHOP, 7002) == 30


# --- the Payouts page and the creator page's pay block ------------------------------------------


def admin_page(client, path):
    from factories.admin import session_token

    answer = client.get(f"{path}?shop={SHOP}&host=aG9zdA&id_token={session_token(SHOP)}")
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_payouts_page_shows_who_would_be_paid_the_open_payout_and_its_buttons(api, client, ledger):
    html = admin_page(client, "/app/payouts")
    assert 'id="preview-table"' in html and "Waits: under $25.00" in html  # Ben
    payout = make_payout(api)
    html = admin_page(client, "/app/payouts")
    assert f'id="payout-{payout["id"]}"' in html
    assert "Anna Lee" in html and "$60.00" in html and "$90.00" in html
    assert "for want of a payout e-mail: Chloe Park" in html
    for fmt in ("paypal", "wise", "generic"):
        assert f'data-csv-url="/api/v1/payouts/{payout["id"]}.csv?format={fmt}"' in html
    assert f'data-api="/api/v1/payouts/{payout["id"]}/paid"' in html
    assert '"method": "store_credit"' in html and f'data-api="/api/v1/payouts/{payout["id"]}/cancel"' in html
    assert 'href="/app/payouts?' in html and 'aria-current="page">Payouts' in html
    api.post(f"/api/v1/payouts/{payout['id']}/paid")
    html = admin_page(client, "/app/payouts")
    assert 'id="history-table"' in html and 'data-state="paid"' in html and f'id="payout-{payout["id"]}"' not in html


def test_the_creator_page_shows_owed_held_paid_and_the_statement_link(api, client, ledger):
    html = admin_page(client, f"/app/creators/{ledger['anna']}")
    assert 'id="pay-section"' in html
    assert 'data-metric="pay-owed" data-value="81.00"' in html  # 60 approved + 12 held + 9 pending
    assert 'data-metric="pay-held" data-value="12.00"' in html
    assert "Make statement link" in html and "anna@example.com" in html
    api.post(f"/api/v1/influencers/{ledger['anna']}/statement-link")
    html = admin_page(client, f"/app/creators/{ledger['anna']}")
    assert "Make a new statement link" in html and "works until" in html


def test_the_store_credit_call_speaks_shopifys_mutation(fake_shopify):
    from decimal import Decimal

    from worker import shopify_admin

    config = fake_shopify.admin_config()
    token = fake_shopify.issue_token(SHOP)
    fake_shopify.add_customer(SHOP, 42)
    credit = shopify_admin.credit_store_credit(
        config, SHOP, token, customer_id=42, amount=Decimal("12.5"), currency="usd"
    )
    assert credit.id.startswith("gid://shopify/StoreCreditAccountCreditTransaction/")
    assert (credit.amount, credit.currency, credit.balance_after) == (Decimal("12.50"), "USD", Decimal("12.50"))
    with pytest.raises(shopify_admin.UserErrors) as refused:
        shopify_admin.credit_store_credit(config, SHOP, token, customer_id=42, amount=Decimal("5"), currency="EUR")
    assert refused.value.codes == ["UNSUPPORTED_CURRENCY"]
    with pytest.raises(ValueError):
        shopify_admin.credit_store_credit(config, SHOP, token, customer_id=42, amount=Decimal("0"), currency="USD")
    assert fake_shopify.store_credit_balance(SHOP, 42) == Decimal("12.50")


def test_the_creator_page_says_the_plan_in_force(api, client, db_session, ledger):
    from datetime import date
    from decimal import Decimal

    from models import PayPlan

    db_session.add(
        PayPlan(
            shop_id=ledger["shop_id"], influencer_id=None, starts_on=date(2026, 1, 1), commission_percent=Decimal("8")
        )
    )
    db_session.add(
        PayPlan(
            shop_id=ledger["shop_id"],
            influencer_id=ledger["anna"],
            starts_on=date(2026, 1, 1),
            commission_percent=Decimal("10"),
            repeat_commission_percent=Decimal("5"),
            repeat_months=12,
            flat_fee=Decimal("200"),
            flat_fee_period="month",
            cap=Decimal("500"),
        )
    )
    db_session.commit()
    anna = html.unescape(admin_page(client, f"/app/creators/{ledger['anna']}"))
    assert (
        "10% of each order's net merchandise; 5% on repeat orders for 12 months; $200.00 a month; "
        "capped at $500.00 a month" in anna
    )
    ben = html.unescape(admin_page(client, f"/app/creators/{ledger['ben']}"))
    assert "Shop default plan" in ben and "8% of each order's net merchandise" in ben


def test_a_creator_is_given_a_payout_email_and_a_customer_through_the_api(api, ledger):
    answer = api.patch(
        f"/api/v1/influencers/{ledger['chloe']}",
        json={"payout_email": "chloe@example.com", "shopify_customer_id": 7002},
    )
    assert answer.status_code == 200
    assert (answer.get_json()["payout_email"], answer.get_json()["shopify_customer_id"]) == ("chloe@example.com", 7002)
    bad = api.patch(f"/api/v1/influencers/{ledger['chloe']}", json={"payout_email": "not an email"})
    assert bad.status_code == 422 and "payout_email" in bad.get_json()["errors"]
    assert api.patch(f"/api/v1/influencers/{ledger['chloe']}", json={"shopify_customer_id": -3}).status_code == 422
    payout = api.post("/api/v1/payouts", json={"period_end": YESTERDAY}).get_json()
    assert payout["without_payout_email"] == []


def test_every_payout_and_statement_route_answers_404_to_another_shop(app, api, other_api, ledger):
    """Walks the URL map, so a route added later is checked too."""
    payout = make_payout(api)
    ids = {"payout_id": payout["id"], "influencer_id": ledger["anna"]}
    checked = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or not ("payout" in rule.rule or "statement" in rule.rule):
            continue
        path = rule.rule
        for name, value in ids.items():
            path = path.replace(f"<int:{name}>", str(value))
        if "<" in path:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            if "<int:" not in rule.rule:
                continue  # lists and creation are scoped by the token, tested above
            answer = getattr(other_api, method.lower())(path, **({"json": {}} if method == "POST" else {}))
            assert answer.status_code == 404, (method, rule.rule, answer.status_code)
            checked.append((method, rule.rule))
    assert len(checked) >= 7
    assert api.get(f"/api/v1/payouts/{payout['id']}").get_json()["state"] == "open"
    assert api.get(f"/api/v1/influencers/{ledger['anna']}/statement-link").status_code == 200


def test_the_demo_gets_one_paid_and_one_open_payout_from_its_approved_commissions(api, runtime, db_session, ledger):
    """As the demo's seeding leaves the ledger: every line approved at once on the history's last
    day, each with the day its holding period ended."""
    from demo.payouts import seed_payouts
    from models import CommissionLine

    end = (datetime.now(timezone.utc) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    for n, line in enumerate(db_session.query(CommissionLine).filter(CommissionLine.state == "approved")):
        line.approved_at = end
        line.approves_at = end - timedelta(days=40 - 10 * (n % 2))
    for days_ago in (45, 35, 12, 8):
        make_line(db_session, ledger["shop_id"], ledger["anna"], "30.00", approved=end).approves_at = end - timedelta(
            days=days_ago
        )
    db_session.commit()
    made = seed_payouts(runtime, SHOP, end=end.date())
    assert made.paid and made.open
    payouts = {p["id"]: p for p in api.get("/api/v1/payouts").get_json()["payouts"]}
    assert payouts[made.paid]["state"] == "paid" and payouts[made.open]["state"] == "open"
    assert payouts[made.paid]["period_end"] < payouts[made.open]["period_end"] <= end.date().isoformat()
    assert seed_payouts(runtime, SHOP, end=end.date()) == type(made)(None, None)  # never twice
