"""The embedded admin pages as the merchant's browser receives them: framed only by the admin,
bounced through App Bridge without a token, figures equal to /api/v1/roi, names escaped."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import datetime, timezone
from decimal import Decimal
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from factories import API_KEY, OTHER_SHOP, SHOP
from factories.admin import auth_headers, session_token
from factories.webhooks import post_recorded_webhook

CSP = f"frame-ancestors https://{SHOP} https://admin.shopify.com;"
EVIL = '<script>alert("pwned")</script>'
FIXTURE_RANGE = "from=2026-10-01&to=2026-11-30"


class Page(HTMLParser):
    """The parts of a page the tests read: scripts in head, KPI cards, table rows, data URIs."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.head_scripts: list[str] = []
        self.meta: dict[str, str] = {}
        self.kpis: dict[str, str] = {}
        self.rows: list[dict[str, str]] = []
        self.images: list[str] = []
        self.downloads: dict[str, str] = {}
        self._in_head = False
        self._row: dict[str, str] | None = None
        self._cells: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "head":
            self._in_head = True
        elif tag == "script" and self._in_head:
            self.head_scripts.append(a.get("src", "inline"))
        elif tag == "meta" and "name" in a:
            self.meta[a["name"]] = a.get("content", "")
        elif tag == "li" and "data-metric" in a:
            self.kpis[a["data-metric"]] = a["data-value"]
        elif tag == "tr" and "data-key" in a:
            self._row, self._cells = {"key": a["data-key"], "class": a.get("class", "")}, []
        elif tag in ("td", "th") and self._row is not None:
            self._cells.append(a.get("data-value", ""))
        elif tag == "img" and a.get("src", "").startswith("data:"):
            self.images.append(a["src"])
        elif tag == "a" and "download" in a:
            self.downloads[a["download"]] = a.get("href", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        elif tag == "tr" and self._row is not None:
            self._row["cells"] = self._cells  # type: ignore[assignment]
            self.rows.append(self._row)
            self._row = None


def page(client, path: str, shop: str = SHOP, **token_claims):  # type: ignore[no-untyped-def]
    sep = "&" if "?" in path else "?"
    return client.get(f"{path}{sep}shop={shop}&host=aG9zdA&id_token={session_token(shop, **token_claims)}")


def same_figure(page_value: str, api_value: object) -> bool:
    if api_value is None:
        return page_value == ""
    if isinstance(api_value, str):
        return Decimal(page_value) == Decimal(api_value)
    return float(page_value) == float(api_value)  # type: ignore[arg-type]


@pytest.fixture
def anna(api, run_jobs):  # type: ignore[no-untyped-def]
    """The fixture story's creator, with her code, a link, a post and a cost; order #1001 used the code."""
    resp = api.post(
        "/api/v1/influencers",
        json={
            "name": "Anna Lee",
            "handle": "anna.lee",
            "platform": "instagram",
            "followers": 12000,
            "campaign": "Spring",
        },
    )
    assert resp.status_code == 201, resp.json
    anna = resp.json
    assert (
        api.post(
            f"/api/v1/influencers/{anna['id']}/codes", json={"code": "ANNA15", "create_in_shopify": False}
        ).status_code
        == 201
    )
    assert api.post(f"/api/v1/influencers/{anna['id']}/links", json={"slug": "anna-lee"}).status_code == 201
    assert (
        api.post(
            "/api/v1/costs",
            json={
                "category": "fee",
                "amount": "40.00",
                "incurred_on": "2026-10-10",
                "influencer_id": anna["id"],
                "note": "October story",
            },
        ).status_code
        == 201
    )
    assert (
        api.post(
            "/api/v1/posts",
            json={
                "influencer_id": anna["id"],
                "platform": "instagram",
                "content_type": "reel",
                "posted_at": "2026-10-12T10:00:00Z",
                "impressions": 20000,
                "reach": 15000,
                "likes": 900,
                "comments": 40,
                "shares": 12,
                "saves": 30,
            },
        ).status_code
        == 201
    )
    run_jobs()
    assert post_recorded_webhook(api.client, "orders_create_code.json").status_code == 200
    run_jobs()
    return anna


# --- auth, framing, App Bridge -------------------------------------------------------------


def test_page_without_token_bounces_through_app_bridge_and_shows_nothing(client, anna):
    resp = client.get(f"/app?shop={SHOP}&host=aG9zdA")
    assert resp.status_code == 302
    location = urlsplit(resp.headers["Location"])
    assert location.path == "/auth/patch-id-token"
    assert parse_qs(location.query)["shopify-reload"][0].startswith("/app?")
    assert b"Anna" not in resp.data
    assert resp.headers["Content-Security-Policy"] == CSP
    bounce = client.get(resp.headers["Location"])
    assert bounce.status_code == 200
    assert f'data-api-key="{API_KEY}"'.encode() in bounce.data and b"app-bridge.js" in bounce.data


@pytest.mark.parametrize(
    "claims",
    [{"exp_in": -60}, {"secret": "not-the-app-secret"}, {"aud": "another-app"}],
    ids=["expired", "forged", "other-app"],
)
def test_bad_token_on_a_page_shows_no_data(client, anna, claims):
    resp = page(client, "/app", **claims)
    assert resp.status_code in (302, 401)
    assert b"Anna" not in resp.data and b"ANNA15" not in resp.data
    if resp.status_code == 302:
        assert urlsplit(resp.headers["Location"]).path == "/auth/patch-id-token"


def test_overview_loads_app_bridge_first_in_head_and_is_framed_only_by_the_admin(client, anna):
    resp = page(client, "/app")
    assert resp.status_code == 200
    assert resp.headers["Content-Security-Policy"] == CSP
    parsed = Page(resp.get_data(as_text=True))
    assert parsed.meta["shopify-api-key"] == API_KEY
    assert parsed.head_scripts[0] == "https://cdn.shopify.com/shopifycloud/app-bridge.js"
    assert "https://cdn.shopify.com/shopifycloud/polaris.js" in parsed.head_scripts


def test_every_page_and_partial_fetch_carries_the_frame_ancestors_policy(client, anna):
    for path in (
        "/app",
        "/app/costs",
        "/app/posts",
        "/app/settings",
        f"/app/creators/{anna['id']}",
        "/app/table.csv",
        "/app/creators/999999",
    ):
        resp = page(client, path)
        assert resp.status_code in (200, 404), path
        assert resp.headers["Content-Security-Policy"] == CSP, path
        # The page's own refreshes fetch with a bearer token (no id_token in the URL).
        fetched = client.get(path, headers=auth_headers(SHOP))
        assert fetched.headers["Content-Security-Policy"] == CSP, path


def test_another_shops_creator_is_not_found_and_not_revealed(client, anna, other_api):
    resp = page(client, f"/app/creators/{anna['id']}", shop=OTHER_SHOP)
    assert resp.status_code == 404
    assert b"Anna" not in resp.data
    assert "Anna" not in page(client, "/app", shop=OTHER_SHOP).get_data(as_text=True)


# --- figures ---------------------------------------------------------------------------------


def test_kpi_cards_and_creator_rows_equal_the_roi_api(api, client, anna):
    report = api.get(f"/api/v1/roi?{FIXTURE_RANGE}").json
    assert Decimal(report["totals"]["revenue"]) > 0, "the code order must count"
    parsed = Page(page(client, f"/app?{FIXTURE_RANGE}").get_data(as_text=True))
    assert set(parsed.kpis) >= {
        "cost",
        "revenue",
        "roi",
        "roi_with_repeat",
        "roas",
        "cac",
        "orders",
        "new_customers",
        "repeat_purchase_rate",
        "ctr",
        "conversion_rate",
        "engagement_rate",
        "emv",
        "clv_cohort",
    }
    for metric, shown in parsed.kpis.items():
        assert same_figure(shown, report["totals"][metric]), (metric, shown, report["totals"][metric])
    api_rows = {"" if r["key"] is None else str(r["key"]): r for r in report["rows"]}
    page_rows = {r["key"]: r for r in parsed.rows}
    assert str(anna["id"]) in page_rows
    from plugin.display import TABLE_COLUMNS

    for key, row in page_rows.items():
        for (metric, _, _), shown in zip(TABLE_COLUMNS, row["cells"][1:]):
            assert same_figure(shown, api_rows[key][metric]), (key, metric)


def test_figures_read_as_a_merchant_reads_them(client, anna):
    html = page(client, f"/app?{FIXTURE_RANGE}").get_data(as_text=True)
    # Order #1001: net sales 95.91 USD (tests/fixtures/shopify/README.md); cost 40.00.
    assert re.search(
        r'data-metric="revenue"[^>]*>\s*<span class="label">Revenue</span>\s*'
        r'<span class="value">\$95\.91</span>',
        html,
    )
    assert re.search(
        r'data-metric="cost"[^>]*>\s*<span class="label">Cost</span>\s*'
        r'<span class="value">\$40\.00</span>',
        html,
    )
    assert "<svg" in html and "Revenue and cost, cumulative" in html and "ROI by creator" in html


def test_creator_that_loses_money_is_marked(api, client, anna):
    resp = api.post("/api/v1/influencers", json={"name": "Costly Carl", "handle": "carl", "platform": "tiktok"})
    carl = resp.json["id"]
    api.post(
        "/api/v1/costs",
        json={"category": "fee", "amount": "500.00", "incurred_on": "2026-10-20", "influencer_id": carl},
    )
    rows = {r["key"]: r for r in Page(page(client, f"/app?{FIXTURE_RANGE}").get_data(as_text=True)).rows}
    assert "loser" in rows[str(carl)]["class"]
    assert "loser" not in rows[str(anna["id"])]["class"]
    html = page(client, f"/app?{FIXTURE_RANGE}").get_data(as_text=True)
    assert html.count("Loses money") == 1


def test_table_sorts_by_any_metric_on_the_server(api, client, anna):
    for i, amount in enumerate(("300.00", "5.00", "120.00")):
        created = api.post(
            "/api/v1/influencers", json={"name": f"Creator {i}", "handle": f"c{i}", "platform": "youtube"}
        ).json
        api.post(
            "/api/v1/costs",
            json={"category": "fee", "amount": amount, "incurred_on": "2026-10-20", "influencer_id": created["id"]},
        )
    for direction, pick in (("desc", max), ("asc", min)):
        parsed = Page(page(client, f"/app?{FIXTURE_RANGE}&sort=cost&dir={direction}").get_data(as_text=True))
        costs = [Decimal(r["cells"][1]) for r in parsed.rows if r["cells"][1]]
        assert costs == sorted(costs, reverse=direction == "desc") and len(costs) == 4
        assert costs[0] == pick(costs)


def test_table_csv_holds_every_row_and_the_total(api, client, anna):
    resp = client.get(f"/app/table.csv?{FIXTURE_RANGE}", headers=auth_headers(SHOP))
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    report = api.get(f"/api/v1/roi?{FIXTURE_RANGE}").json
    by_key = {r["influencer"]: r for r in rows}
    assert by_key[str(anna["id"])]["name"] == "Anna Lee"
    assert Decimal(by_key[str(anna["id"])]["revenue"]) == Decimal(report["rows"][0]["revenue"])
    assert Decimal(by_key["total"]["revenue"]) == Decimal(report["totals"]["revenue"])


def test_table_csv_says_what_it_holds_in_its_header_cells_and_name(api, client, anna):
    """Ratios marked as fractions, the creator's own followers, empty cells for what is not
    known, and a file name with the grouping, the range and the filter."""
    assert (
        api.post(
            "/api/v1/posts",
            json={
                "influencer_id": anna["id"],
                "platform": "instagram",
                "content_type": "story",
                "posted_at": "2026-10-20T10:00:00Z",
                "impressions": 1000,
            },
        ).status_code
        == 201
    )
    quiet = api.post("/api/v1/influencers", json={"name": "Quiet Quinn", "handle": "quinn", "platform": "tiktok"})
    resp = client.get(f"/app/table.csv?{FIXTURE_RANGE}", headers=auth_headers(SHOP))
    name = "creator-roi-influencer-2026-10-01_2026-11-30.csv"
    assert resp.headers["Content-Disposition"] == f'attachment; filename="{name}"'
    table = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    header = table[0]
    assert {"roi_fraction", "roi_with_repeat_fraction", "ctr_fraction", "engagement_rate_fraction"} <= set(header)
    assert "roi" not in header and "roas" in header
    rows = {row[0]: dict(zip(header, row)) for row in table[1:]}
    report = api.get(f"/api/v1/roi?{FIXTURE_RANGE}").json
    figures = next(r for r in report["rows"] if r["key"] == anna["id"])
    mine = rows[str(anna["id"])]
    assert float(mine["roi_fraction"]) == figures["roi"]  # 0.25 is the page's 25%
    # Two posts, each recording her 12,000 followers: she has 12,000, not 24,000.
    assert (mine["followers"], mine["followers_summed_over_posts"]) == ("12000", "24000")
    assert rows["total"]["followers"] == "12000"  # Quinn has none
    # A creator without figures in the range: empty cells, not the page's dash.
    assert rows[str(quiet.json["id"])]["name"] == "Quiet Quinn"
    assert rows[str(quiet.json["id"])]["revenue"] == "" and rows[str(quiet.json["id"])]["followers"] == "0"
    assert not any(cell == "—" for row in table for cell in row)

    filtered = client.get(f"/app/table.csv?{FIXTURE_RANGE}&platform=tiktok&group=platform", headers=auth_headers(SHOP))
    assert filtered.headers["Content-Disposition"] == (
        'attachment; filename="creator-roi-platform-2026-10-01_2026-11-30-tiktok.csv"'
    )


# --- the creator page ----------------------------------------------------------------------------


def test_creator_page_shows_evidence_codes_links_posts_and_costs(client, anna, app):
    html = page(client, f"/app/creators/{anna['id']}?{FIXTURE_RANGE}").get_data(as_text=True)
    assert "code ANNA15" in html
    assert f"https://{SHOP}/discount/ANNA15" in html
    assert f"{app.config['SHOPIFY_APP_URL']}/r/anna-lee" in html
    assert "October story" in html and "Reel" in html and "$40.00" in html
    assert "$95.91" in html and "First" in html


def test_referral_link_qr_code_downloads_decode_to_the_link(client, anna, app):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    parsed = Page(page(client, f"/app/creators/{anna['id']}").get_data(as_text=True))
    png = parsed.downloads["qr-anna-lee.png"]
    assert png.startswith("data:image/png;base64,")
    image = Image.open(io.BytesIO(base64.b64decode(png.split(",", 1)[1])))
    decoded = zxingcpp.read_barcodes(image)
    assert [d.text for d in decoded] == [f"{app.config['SHOPIFY_APP_URL']}/r/anna-lee"]
    assert parsed.downloads["qr-anna-lee.svg"].startswith("data:image/svg+xml")


def test_unknown_creator_is_a_404_page(client, anna):
    resp = page(client, "/app/creators/424242")
    assert resp.status_code == 404
    assert b"does not exist" in resp.data


# --- bad input ---------------------------------------------------------------------------------


def test_html_in_names_handles_and_notes_is_escaped_everywhere(api, client, anna):
    evil = api.post(
        "/api/v1/influencers",
        json={"name": EVIL, "handle": "evil.one", "platform": "x", "notes": EVIL, "campaign": EVIL},
    ).json
    api.post(
        "/api/v1/costs",
        json={
            "category": "tools",
            "amount": "12.00",
            "incurred_on": "2026-10-21",
            "influencer_id": evil["id"],
            "note": EVIL,
            "campaign": EVIL,
        },
    )
    api.post(
        "/api/v1/posts",
        json={
            "influencer_id": evil["id"],
            "platform": "x",
            "content_type": "post",
            "posted_at": "2026-10-21T10:00:00Z",
            "impressions": 10,
        },
    )
    for path in (
        "/app",
        f"/app?{FIXTURE_RANGE}",
        "/app?group=campaign",
        f"/app/creators/{evil['id']}",
        "/app/costs",
        "/app/posts",
    ):
        html = page(client, path).get_data(as_text=True)
        assert '<script>alert("pwned")' not in html, path
        assert "&lt;script&gt;alert(" in html, path


def test_bad_filter_input_is_reported_and_the_default_range_used(client, anna):
    resp = page(client, "/app?from=yesterday&platform=myspace&campaign=abc")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Enter a date between 1970-01-01 and 9999-12-31, as YYYY-MM-DD." in html
    assert 'value="yesterday"' in html  # what was typed stays in the field
    assert "Choose a platform from the list." in html
    assert "That campaign does not exist." in html


def test_reversed_range_keeps_the_dates_typed_and_says_what_is_shown(client, anna):
    html = page(client, "/app?from=2026-11-30&to=2026-10-01").get_data(as_text=True)
    assert 'id="f-from" type="date" name="from" value="2026-11-30"' in html
    assert 'id="f-to" type="date" name="to" value="2026-10-01"' in html
    assert "The end date is before the start date." in html
    assert 'aria-describedby="f-to-error"' in html
    assert re.search(r'id="range-shown">Showing \w', html)  # the days the figures below are of


def test_all_time_and_the_presets_are_named_in_the_url(api, client, anna):
    html = page(client, "/app?range=all").get_data(as_text=True)
    assert 'aria-current="true">All time</a>' in html
    assert 'name="from" value="2026-10-10"' in html  # the day of the fixture's first figure, its fee
    shown = Page(html)
    everything = api.get("/api/v1/roi?from=1970-01-01&to=9999-12-31").json
    assert Decimal(shown.kpis["revenue"]) == Decimal(everything["totals"]["revenue"]) > 0
    # Sorting and grouping keep the preset, not the dates of today.
    assert "range=all&amp;" in html and "group=platform" in html
    for name in ("7d", "30d", "90d", "month", "last_month", "year"):
        assert page(client, f"/app?range={name}").status_code == 200
    assert 'aria-current="true">Last 7 days</a>' in page(client, "/app?range=7d").get_data(as_text=True)


def test_a_filter_without_creators_says_so_and_offers_to_clear_it(client, anna):
    html = page(client, f"/app?{FIXTURE_RANGE}&platform=twitch").get_data(as_text=True)
    assert "<h2>No Twitch creators</h2>" in html
    assert "give your creators" not in html.lower() and "Give your creators" not in html
    clear = re.search(r'<a class="button" href="([^"]+)">Clear the filter</a>', html)
    assert clear and "platform=" not in clear.group(1) and "from=2026-10-01" in clear.group(1)


def test_counts_name_and_tiny_rates_read_as_a_merchant_expects(api, client, anna):
    from plugin import display

    html = page(client, f"/app?{FIXTURE_RANGE}").get_data(as_text=True)
    creators = len(api.get("/api/v1/influencers").json["influencers"])
    assert f'Creators <span class="sub">({creators})</span>' in html  # not the shop-wide row
    assert display.percent(1 / 30000) == "<0.1%" and display.percent(0.0) == "0.0%"


# --- fresh install and the landing page ---------------------------------------------------------------


def test_fresh_install_tells_the_merchant_what_to_do_first(client):
    resp = page(client, "/app")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Start by adding your first creator" in html
    assert 'data-api="/api/v1/influencers"' in html
    parsed = Page(html)
    assert parsed.kpis["revenue"] == "0.00" and parsed.kpis["roi"] == ""
    assert "<svg" not in html  # no empty charts


def test_root_says_what_the_app_is_and_demo_is_off_outside_development(client):
    assert client.get("/demo").status_code == 404
    resp = client.get("/")
    assert resp.status_code == 200
    assert b"Creator ROI" in resp.data and b"Shopify admin" in resp.data
    forwarded = client.get(f"/?shop={SHOP}&host=aG9zdA")
    assert forwarded.status_code == 302 and forwarded.headers["Location"].startswith("/app?shop=")


# --- the development-only demo login ------------------------------------------------------------------


@pytest.fixture
def dev_app(app_config):  # type: ignore[no-untyped-def]
    from plugin import create_app

    application = create_app(dict(app_config, APP_ENV="development"))
    yield application
    application.extensions["creator_roi"].db.dispose()


def test_demo_login_opens_the_demo_store_in_development_only(dev_app):
    from worker import installation

    client = dev_app.test_client()
    domain = dev_app.config["DEMO_SHOP"]
    missing = client.get("/demo")
    assert missing.status_code == 503 and b"make demo" in missing.data
    rt = dev_app.extensions["creator_roi"]
    with rt.db.session() as db:
        installation.install_with_access_token(rt, db, domain, "shpat_demo", "USD")
    for path in ("/", "/demo"):
        resp = client.get(path)
        assert resp.status_code == 302
        query = parse_qs(urlsplit(resp.headers["Location"]).query)
        assert query["shop"] == [domain]
        claims = jwt.decode(
            query["id_token"][0],
            dev_app.config["SHOPIFY_API_SECRET"],
            algorithms=["HS256"],
            audience=dev_app.config["SHOPIFY_API_KEY"],
        )
        lifetime = claims["exp"] - datetime.now(timezone.utc).timestamp()
        assert 11 * 3600 < lifetime <= 12 * 3600
    opened = client.get(resp.headers["Location"])
    assert opened.status_code == 200
    assert b"Demo login \xe2\x80\x94 development only" in opened.data
    # A genuine admin session (no demo claim) shows no banner.
    assert (
        b"development only"
        not in client.get(
            f"/app?id_token={session_token(domain, secret=dev_app.config['SHOPIFY_API_SECRET'], aud=dev_app.config['SHOPIFY_API_KEY'])}"
        ).data
    )


def test_gzip_keeps_the_first_page_small(client, anna):
    resp = client.get(
        f"/app?{FIXTURE_RANGE}&shop={SHOP}&id_token={session_token(SHOP)}", headers={"Accept-Encoding": "gzip"}
    )
    assert resp.headers["Content-Encoding"] == "gzip"
    assert len(resp.data) < 100_000
    import gzip

    assert b"Anna Lee" in gzip.decompress(resp.data)
