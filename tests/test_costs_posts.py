"""Costs (every category, management time priced by the hour) and posts (single and CSV import)."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select, update

from factories import SHOP
from factories.admin import auth_headers
from factories.registry import make_cost, make_influencer, make_post, past
from models import COST_CATEGORIES, Cost, Post, Shop

# --- costs ---------------------------------------------------------------------------


@pytest.mark.parametrize("category", [c for c in COST_CATEGORIES if c != "management_time"])
def test_every_amount_category_is_recorded_as_decimal_money(api, db_session, category):
    creator = make_influencer(api)
    body = make_cost(
        api,
        category=category,
        amount="1234.5",
        incurred_on="2026-08-15",
        influencer_id=creator["id"],
        note="contract #7",
    )
    assert body["category"] == category
    assert body["amount"] == "1234.50"
    assert body["incurred_on"] == "2026-08-15"
    assert body["influencer_id"] == creator["id"]
    assert body["hours"] is None and body["hourly_rate"] is None
    stored = db_session.get(Cost, body["id"])
    assert stored.amount == Decimal("1234.50") and isinstance(stored.amount, Decimal)


def test_management_time_is_hours_times_the_entrys_rate(api):
    body = make_cost(api, category="management_time", hours="3.5", hourly_rate="42.50", incurred_on="2026-09-02")
    assert (body["hours"], body["hourly_rate"], body["amount"]) == ("3.50", "42.50", "148.75")


def test_management_time_without_a_rate_uses_the_shops_hourly_rate(api):
    assert api.patch("/api/v1/shop/settings", json={"hourly_rate": "60.00"}).status_code == 200
    body = make_cost(api, category="management_time", hours="2.25", incurred_on="2026-09-02")
    assert (body["hourly_rate"], body["amount"]) == ("60.00", "135.00")
    unpaid = make_cost(api, category="management_time", hours="5", hourly_rate="0", incurred_on="2026-09-02")
    assert (unpaid["hourly_rate"], unpaid["amount"]) == ("0.00", "0.00")  # an explicit zero is kept


def test_costs_per_creator_per_campaign_or_shop_wide(api):
    maya = make_influencer(api)
    ben = make_influencer(api)
    make_cost(api, amount="100", influencer_id=maya["id"], incurred_on="2026-09-01")
    make_cost(api, amount="50", influencer_id=ben["id"], incurred_on="2026-09-03")
    launch = make_cost(api, category="tools", amount="30", campaign="Launch", incurred_on="2026-09-05")
    make_cost(api, category="tools", amount="20", incurred_on="2026-10-01")
    assert launch["campaign"] == "Launch" and isinstance(launch["campaign_id"], int)

    def listed(query: str = "") -> tuple[list[str], str]:
        response = api.get(f"/api/v1/costs{query}")
        assert response.status_code == 200
        body = response.get_json()
        return [c["amount"] for c in body["costs"]], body["total"]

    assert listed() == (["20.00", "30.00", "50.00", "100.00"], "200.00")
    assert listed(f"?influencer_id={maya['id']}") == (["100.00"], "100.00")
    assert listed(f"?campaign_id={launch['campaign_id']}") == (["30.00"], "30.00")
    assert listed("?category=tools") == (["20.00", "30.00"], "50.00")
    assert listed("?from=2026-09-02&to=2026-09-30") == (["30.00", "50.00"], "80.00")
    assert api.get("/api/v1/costs?from=yesterday").status_code == 422
    assert api.get("/api/v1/costs?category=bribes").status_code == 422


def test_edit_and_delete_a_cost(api, db_session):
    creator = make_influencer(api)
    cost = make_cost(api, amount="100", influencer_id=creator["id"])
    url = f"/api/v1/costs/{cost['id']}"
    edited = api.patch(url, json={"amount": "120.10", "note": "renegotiated", "influencer_id": None})
    assert edited.status_code == 200
    assert (edited.get_json()["amount"], edited.get_json()["note"]) == ("120.10", "renegotiated")
    assert edited.get_json()["influencer_id"] is None

    timed = api.patch(url, json={"category": "management_time", "hours": "4", "hourly_rate": "25"})
    assert timed.status_code == 200
    assert (timed.get_json()["amount"], timed.get_json()["hours"]) == ("100.00", "4.00")
    rehoured = api.patch(url, json={"hours": "6"}).get_json()
    assert rehoured["amount"] == "150.00"  # re-priced at the entry's rate
    back = api.patch(url, json={"category": "fee", "amount": "80"}).get_json()
    assert (back["amount"], back["hours"], back["hourly_rate"]) == ("80.00", None, None)

    assert api.get(url).get_json()["amount"] == "80.00"
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert db_session.get(Cost, cost["id"]) is None


def test_bad_cost_input_is_422_per_field_and_writes_nothing(api, db_session):
    cases = [
        ({"category": "bribes", "amount": "1", "incurred_on": "2026-09-01"}, "category"),
        ({"category": "fee", "amount": "-5", "incurred_on": "2026-09-01"}, "amount"),
        ({"category": "fee", "amount": "NaN", "incurred_on": "2026-09-01"}, "amount"),
        ({"category": "fee", "incurred_on": "2026-09-01"}, "amount"),
        ({"category": "fee", "amount": "5", "hours": "2", "incurred_on": "2026-09-01"}, "hours"),
        ({"category": "management_time", "incurred_on": "2026-09-01"}, "hours"),
        ({"category": "management_time", "hours": "2", "amount": "9", "incurred_on": "2026-09-01"}, "amount"),
        ({"category": "management_time", "hours": "-2", "incurred_on": "2026-09-01"}, "hours"),
        ({"category": "fee", "amount": "5", "incurred_on": "31/09/2026"}, "incurred_on"),
        ({"category": "fee", "amount": "5"}, "incurred_on"),
        ({"category": "fee", "amount": "5", "incurred_on": "2026-09-01", "campaign": ""}, "campaign"),
    ]
    for body, field in cases:
        response = api.post("/api/v1/costs", json=body)
        assert response.status_code == 422, body
        assert field in response.get_json()["errors"], (body, response.get_json())
    assert api.post("/api/v1/costs", data="[", content_type="application/json").status_code == 400
    unknown = api.post(
        "/api/v1/costs",
        json={
            "category": "fee",
            "amount": "5",
            "incurred_on": "2026-09-01",
            "influencer_id": 999999,
            "campaign": "Ghost",
        },
    )
    assert unknown.status_code == 404
    assert db_session.scalar(select(func.count()).select_from(Cost)) == 0
    cost = make_cost(api)
    assert api.patch(f"/api/v1/costs/{cost['id']}", json={"hours": "3"}).status_code == 422
    assert api.patch(f"/api/v1/costs/{cost['id']}", json={"amount": "-1"}).status_code == 422
    assert api.get(f"/api/v1/costs/{cost['id']}").get_json()["amount"] == "250.00"


# --- posts ---------------------------------------------------------------------------


def test_create_post_with_its_figures(api):
    creator = make_influencer(api, followers=20000)
    body = make_post(
        api,
        creator["id"],
        content_type="story",
        url="https://instagram.com/p/abc",
        impressions=5000,
        reach=7000,
        likes=300,
        comments=20,
        shares=10,
        saves=5,
    )
    assert body["content_type"] == "story" and body["url"] == "https://instagram.com/p/abc"
    assert body["reach"] == 7000  # reach above impressions is what some platforms report
    assert body["engagements"] == 335
    assert body["followers"] == 20000  # the creator's followers when none are given
    explicit = make_post(api, creator["id"], followers=0)
    assert explicit["followers"] == 0


def test_posted_at_without_offset_is_utc_and_future_is_refused(api):
    creator = make_influencer(api)
    body = make_post(api, creator["id"], posted_at="2026-01-05T10:00:00")
    assert datetime.fromisoformat(body["posted_at"]) == datetime(2026, 1, 5, 10, tzinfo=timezone.utc)
    future = (datetime.now(timezone.utc) + timedelta(days=1)).isoformat()
    response = api.post(
        "/api/v1/posts",
        json={"influencer_id": creator["id"], "platform": "x", "content_type": "post", "posted_at": future},
    )
    assert response.status_code == 422
    assert response.get_json()["errors"]["posted_at"] == ["The post date is in the future: enter when it was posted."]


def test_bad_post_input(api, db_session):
    creator = make_influencer(api)
    base = {"influencer_id": creator["id"], "platform": "instagram", "content_type": "reel", "posted_at": past()}
    cases = [
        ({"likes": -1}, "likes"),
        ({"followers": -10}, "followers"),
        ({"impressions": "lots"}, "impressions"),
        ({"saves": 1.5}, "saves"),
        ({"content_type": "tweet"}, "content_type"),
        ({"platform": "vine"}, "platform"),
        ({"posted_at": "yesterday"}, "posted_at"),
        ({"url": "not a url"}, "url"),
        ({"url": "ftp://x.example/a"}, "url"),
        ({"influencer_id": "abc"}, "influencer_id"),
    ]
    for change, field in cases:
        response = api.post("/api/v1/posts", json={**base, **change})
        assert response.status_code == 422, change
        assert field in response.get_json()["errors"], change
    missing = api.post("/api/v1/posts", json={})
    assert set(missing.get_json()["errors"]) == {"influencer_id", "platform", "content_type", "posted_at"}
    assert api.post("/api/v1/posts", json={**base, "influencer_id": 999999}).status_code == 404
    assert api.post("/api/v1/posts", data="{", content_type="application/json").status_code == 400
    assert db_session.scalar(select(func.count()).select_from(Post)) == 0


def test_the_same_post_url_twice_is_a_duplicate(api):
    creator = make_influencer(api)
    make_post(api, creator["id"], url="https://tiktok.com/@maya/video/1")
    again = api.post(
        "/api/v1/posts",
        json={
            "influencer_id": creator["id"],
            "platform": "tiktok",
            "content_type": "video",
            "posted_at": past(),
            "url": "https://tiktok.com/@maya/video/1",
        },
    )
    assert again.status_code == 409


def test_list_edit_and_delete_posts(api, db_session):
    maya = make_influencer(api)
    ben = make_influencer(api)
    old = make_post(api, maya["id"], posted_at="2026-03-01T12:00:00Z", content_type="live")
    make_post(api, maya["id"], posted_at="2026-04-01T12:00:00Z", platform="youtube", content_type="video")
    make_post(api, ben["id"], posted_at="2026-04-02T12:00:00Z")

    def ids(query: str = "") -> list[int]:
        response = api.get(f"/api/v1/posts{query}")
        assert response.status_code == 200
        return [p["influencer_id"] for p in response.get_json()["posts"]]

    assert ids() == [ben["id"], maya["id"], maya["id"]]
    assert ids(f"?influencer_id={maya['id']}") == [maya["id"], maya["id"]]
    assert ids("?platform=youtube") == [maya["id"]]
    assert ids("?content_type=live") == [maya["id"]]
    assert ids("?from=2026-04-01&to=2026-04-01") == [maya["id"]]

    url = f"/api/v1/posts/{old['id']}"
    edited = api.patch(url, json={"likes": 999, "influencer_id": ben["id"]})
    assert edited.status_code == 200
    assert (edited.get_json()["likes"], edited.get_json()["influencer_id"]) == (999, ben["id"])
    assert api.patch(url, json={"likes": -1}).status_code == 422
    assert api.patch(url, json={"influencer_id": 999999}).status_code == 404
    assert api.get(url).get_json()["likes"] == 999
    assert api.delete(url).status_code == 204
    assert api.get(url).status_code == 404
    assert db_session.get(Post, old["id"]) is None


# --- CSV import ----------------------------------------------------------------------


def _import(api, text: str | bytes, content_type: str = "text/csv"):
    data = text.encode() if isinstance(text, str) else text
    return api.post("/api/v1/posts/import", data=data, content_type=content_type)


def test_csv_import_creates_the_good_rows_and_reports_each_bad_one(api, db_session):
    maya = make_influencer(api, handle="maya.glow", followers=15000)
    ben = make_influencer(api, handle="ben_ode")
    make_post(api, ben["id"], url="https://youtube.com/watch?v=seen")
    tomorrow = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    csv_text = (
        "\n".join(
            [
                "handle,influencer_id,platform,content_type,posted_at,url,followers,impressions,reach,likes,comments,shares,saves",
                "@maya.glow,,instagram,reel,2026-05-01T10:00:00Z,https://instagram.com/p/1,,50000,42000,2100,130,60,90",
                f",{ben['id']},youtube,video,2026-05-02,https://youtube.com/watch?v=2,8000,12000,9000,400,55,12,30",
                "maya.glow,,instagram,story,2026-05-03T09:00:00Z,,15000,-5,100,1,0,0,0",
                "nobody,,tiktok,video,2026-05-03T09:00:00Z,,,,,,,,",
                f"maya.glow,,instagram,carousel,{tomorrow},,,,,,,,",
                ",,,,,,,,,,,,",
                f",{ben['id']},youtube,video,2026-05-04,https://youtube.com/watch?v=seen,,,,,,,",
                "ben_ode,,youtube,live,2026-05-05T20:00:00+02:00,,,1000,800,50,5,1,0",
                f"maya.glow,{ben['id']},instagram,post,2026-05-06,,,,,,,,",
            ]
        )
        + "\n"
    )
    response = _import(api, csv_text)
    assert response.status_code == 200
    body = response.get_json()
    assert body["created"] == 3
    errors = {e["line"]: e["errors"] for e in body["errors"]}
    assert sorted(errors) == [4, 5, 6, 8, 10]
    assert set(errors[4]) == {"impressions"}
    assert set(errors[5]) == {"handle"}
    assert set(errors[6]) == {"content_type", "posted_at"}
    assert set(errors[8]) == {"url"}
    assert set(errors[10]) == {"handle"}

    db_session.expire_all()
    posts = db_session.scalars(select(Post).order_by(Post.posted_at)).all()
    imported = [p for p in posts if p.url != "https://youtube.com/watch?v=seen"]
    assert [(p.influencer_id, p.content_type, p.likes) for p in imported] == [
        (maya["id"], "reel", 2100),
        (ben["id"], "video", 400),
        (ben["id"], "live", 50),
    ]
    assert imported[0].followers == 15000  # blank followers: the creator's count
    assert imported[2].posted_at == datetime(2026, 5, 5, 18, tzinfo=timezone.utc)


def test_csv_header_problems_are_422_and_nothing_is_created(api, db_session):
    make_influencer(api, handle="maya")
    missing = _import(api, "handle,platform\nmaya,instagram\n")
    assert missing.status_code == 422
    assert "content_type" in missing.get_json()["errors"]["columns"][0]
    unknown = _import(api, "handle,platform,content_type,posted_at,impresions\nmaya,x,post,2026-01-01,5\n")
    assert unknown.status_code == 422
    assert "impresions" in unknown.get_json()["errors"]["columns"][0]
    assert db_session.scalar(select(func.count()).select_from(Post)) == 0


def test_csv_import_refuses_other_media_types_bad_encoding_and_big_files(api, db_session):
    make_influencer(api, handle="maya")
    good_row = "maya,instagram,reel,2026-05-01,,,,,,,,\n"
    header = "handle,platform,content_type,posted_at,url,followers,impressions,reach,likes,comments,shares,saves\n"
    assert _import(api, header + good_row, content_type="application/json").status_code == 415
    assert (
        _import(api, (header + "maya,instagram,reel,2026-05-01,caf\xe9,,,,,,,\n").encode("latin-1")).status_code == 400
    )
    big = header + good_row * (5 * 1024 * 1024 // len(good_row) + 10)
    too_big = _import(api, big)
    assert too_big.status_code == 413
    assert "errors" in too_big.get_json()
    assert db_session.scalar(select(func.count()).select_from(Post)) == 0
    ok = _import(api, "\ufeff" + header + good_row)  # a spreadsheet's BOM is fine
    assert ok.get_json() == {"created": 1, "errors": []}


def test_costs_posts_and_clicks_reach_the_roi_report(api, client):
    from datetime import date

    creator = make_influencer(api, name="Maya", followers=20000)
    today = date.today()
    make_cost(api, amount="300", influencer_id=creator["id"], incurred_on=(today - timedelta(days=3)).isoformat())
    make_cost(
        api,
        category="management_time",
        hours="2",
        hourly_rate="50",
        influencer_id=creator["id"],
        incurred_on=(today - timedelta(days=2)).isoformat(),
    )
    make_post(api, creator["id"], impressions=40000, likes=1000, comments=100, shares=50, saves=50)
    link = api.post(f"/api/v1/influencers/{creator['id']}/links", json={}).get_json()
    assert (
        client.get(
            f"/r/{link['slug']}", headers={"User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
        ).status_code
        == 302
    )

    window = f"from={(today - timedelta(days=10)).isoformat()}&to={(today + timedelta(days=1)).isoformat()}"
    report = api.get(f"/api/v1/roi?group_by=influencer&{window}")
    assert report.status_code == 200, report.get_json()
    [row] = [r for r in report.get_json()["rows"] if r["label"] == "Maya"]
    assert row["cost"] == "400.00"
    assert row["impressions"] == 40000 and row["engagements"] == 1200
    assert row["clicks"] == 1

    cost_id = api.get(f"/api/v1/costs?influencer_id={creator['id']}").get_json()["costs"][0]["id"]
    assert api.delete(f"/api/v1/costs/{cost_id}").status_code == 204
    [row] = [r for r in api.get(f"/api/v1/roi?group_by=influencer&{window}").get_json()["rows"] if r["label"] == "Maya"]
    assert row["cost"] == "300.00"


# --- the import reads the merchant's spreadsheet as the merchant wrote it ----------------


def set_shop_zone(runtime, zone: str) -> None:  # type: ignore[no-untyped-def]
    with runtime.db.session() as s:
        s.execute(update(Shop).where(Shop.domain == SHOP).values(timezone=zone))


def test_csv_import_reads_a_time_without_offset_as_shop_time(api, runtime, db_session):
    set_shop_zone(runtime, "America/New_York")
    maya = make_influencer(api, handle="maya.glow")
    text = (
        "handle,platform,content_type,posted_at,url\n"
        "maya.glow,instagram,reel,2026-01-15 10:00,https://instagram.com/p/winter\n"  # EST, UTC−5
        "maya.glow,instagram,reel,2026-07-01T10:00:00,https://instagram.com/p/summer\n"  # EDT, UTC−4
        "maya.glow,instagram,reel,2026-07-02T10:00:00Z,https://instagram.com/p/utc\n"  # an offset wins
        "maya.glow,instagram,story,2026-03-05,https://instagram.com/p/day\n"  # a day: its shop midnight
    )
    assert _import(api, text).get_json() == {"created": 4, "errors": []}
    db_session.expire_all()
    stored = {p.url.rsplit("/", 1)[1]: p.posted_at for p in db_session.scalars(select(Post))}
    assert stored == {
        "winter": datetime(2026, 1, 15, 15, tzinfo=timezone.utc),
        "summer": datetime(2026, 7, 1, 14, tzinfo=timezone.utc),
        "utc": datetime(2026, 7, 2, 10, tzinfo=timezone.utc),
        "day": datetime(2026, 3, 5, 5, tzinfo=timezone.utc),
    }
    # The page shows the time as it was typed.
    listed = api.get(f"/api/v1/posts?influencer_id={maya['id']}&from=2026-01-15&to=2026-01-15").get_json()["posts"]
    assert [p["url"] for p in listed] == ["https://instagram.com/p/winter"]


def test_csv_import_finds_the_creator_by_handle_in_any_case_with_or_without_at(api, other_api, db_session):
    maya = make_influencer(api, handle="Maya.Glow")
    make_influencer(other_api, handle="ben")  # another shop's creator is not this shop's
    text = (
        "handle,platform,content_type,posted_at\n"
        "@maya.glow,instagram,reel,2026-05-01T10:00:00Z\n"
        "MAYA.GLOW,instagram,story,2026-05-02T10:00:00Z\n"
        " maya.glow ,instagram,post,2026-05-03T10:00:00Z\n"
        "@ben,tiktok,video,2026-05-04T10:00:00Z\n"
    )
    body = _import(api, text).get_json()
    assert body["created"] == 3
    assert body["errors"] == [{"line": 5, "errors": {"handle": ["No creator has the handle @ben."]}}]
    db_session.expire_all()
    assert {p.influencer_id for p in db_session.scalars(select(Post))} == {maya["id"]}


def test_csv_import_names_the_line_of_an_unknown_or_ambiguous_handle(api, db_session):
    make_influencer(api, handle="strasse", name="Sam Strasse")
    make_influencer(api, handle="straße", name="Sam Straße")  # another handle, the same when case is ignored
    text = (
        "handle,platform,content_type,posted_at\n"
        "strasse,instagram,reel,2026-05-01T10:00:00Z\n"
        "@nobody,instagram,reel,2026-05-01T10:00:00Z\n"
    )
    body = _import(api, text).get_json()
    assert body["created"] == 0
    assert body["errors"] == [
        {
            "line": 2,
            "errors": {
                "handle": ["@strasse could be Sam Strasse and Sam Straße: give the creator's influencer_id instead."]
            },
        },
        {"line": 3, "errors": {"handle": ["No creator has the handle @nobody."]}},
    ]
    # The exact handle is never ambiguous through its id.
    assert db_session.scalar(select(func.count()).select_from(Post)) == 0


# --- the posts export -----------------------------------------------------------------------


def test_posts_export_has_shop_times_full_links_and_the_imports_columns(api, client, runtime):
    set_shop_zone(runtime, "America/New_York")
    maya = make_influencer(api, handle="maya.glow", name="Maya Glow")
    ben = make_influencer(api, handle="ben")
    make_post(
        api,
        maya["id"],
        posted_at="2026-03-05T03:24:31.177625+00:00",
        url="https://instagram.com/p/abc?igsh=1",
        likes=10,
        comments=2,
        shares=1,
        saves=3,
    )
    make_post(api, ben["id"], posted_at="2026-03-06T12:00:00Z", url=None)
    response = client.get("/app/posts.csv", headers=auth_headers(SHOP))
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="posts.csv"'
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["handle"] for r in rows] == ["ben", "maya.glow"]  # newest first
    exported = rows[1]
    # The page shows "Mar 4, 2026 22:24 EST": the export says the same instant, to the second.
    assert exported["posted_at"] == "2026-03-04T22:24:31-05:00"
    assert exported["url"] == "https://instagram.com/p/abc?igsh=1"
    assert (exported["creator"], exported["influencer_id"]) == ("Maya Glow", str(maya["id"]))
    assert (exported["platform"], exported["content_type"], exported["engagements"]) == ("instagram", "reel", "16")
    assert rows[0]["url"] == ""
    assert not any(cell in ("Open", "—") for row in rows for cell in row.values())

    # The tables' exact values (what a table's own CSV export writes) are in shop time too.
    posts_page = client.get("/app/posts", headers=auth_headers(SHOP)).get_data(as_text=True)
    assert 'data-value="2026-03-04T22:24:31-05:00"' in posts_page and "177625" not in posts_page

    # One creator's posts, as the creator page's export button downloads them.
    creator_page = client.get(f"/app/creators/{maya['id']}", headers=auth_headers(SHOP)).get_data(as_text=True)
    assert f'data-csv-url="/app/posts.csv?influencer_id={maya["id"]}"' in creator_page
    own = client.get(f"/app/posts.csv?influencer_id={maya['id']}", headers=auth_headers(SHOP))
    assert own.headers["Content-Disposition"] == 'attachment; filename="posts-maya-glow.csv"'
    assert [r["handle"] for r in csv.DictReader(io.StringIO(own.get_data(as_text=True)))] == ["maya.glow"]
    assert client.get("/app/posts.csv?influencer_id=999999", headers=auth_headers(SHOP)).status_code == 404
    assert client.get("/app/posts.csv?influencer_id=x", headers=auth_headers(SHOP)).status_code == 404
