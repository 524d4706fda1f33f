"""Referral links: creation, the /r/<slug> redirect, click counting rules, QR codes."""

from __future__ import annotations

import hashlib
import hmac
import io
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy import func, select, update

from factories import SHOP
from factories.admin import session_token
from factories.registry import make_code, make_influencer, make_link
from factories.store import month_cells, rollup_cells
from models import Click, utcnow
from plugin import create_app

HUMAN = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
DESKTOP = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"


def visit(client, slug: str, ua: str = HUMAN, ip: str = "198.51.100.7", **headers: str):
    return client.get(f"/r/{slug}", headers={"User-Agent": ua, **headers}, environ_base={"REMOTE_ADDR": ip})


def redirect_params(location: str) -> tuple[str, str, dict[str, list[str]]]:
    """(host, path, query) of a redirect's Location."""
    parts = urlsplit(location)
    return parts.hostname or "", parts.path, parse_qs(parts.query)


def expected_ip_hash(secret_key: str, ip: str) -> str:
    return hmac.new(secret_key.encode(), ip.encode(), hashlib.sha256).hexdigest()


def counted(db_session, link_id: int) -> int:
    db_session.expire_all()
    return db_session.scalar(
        select(func.count()).select_from(Click).where(Click.link_id == link_id, Click.counted.is_(True))
    )


def clicks(db_session, link_id: int) -> list[Click]:
    db_session.expire_all()
    return list(db_session.scalars(select(Click).where(Click.link_id == link_id).order_by(Click.id)))


def test_create_link_answers_slug_url_and_qr(api, app):
    creator = make_influencer(api, handle="maya.glow")
    response = api.post(
        f"/api/v1/influencers/{creator['id']}/links", json={"slug": "Maya-Spring", "destination": "/products/serum"}
    )
    assert response.status_code == 201
    link = response.get_json()
    assert link["slug"] == "maya-spring"
    assert link["url"] == f"{app.config['SHOPIFY_APP_URL']}/r/maya-spring"
    assert link["qr_svg_url"] == f"/api/v1/links/{link['id']}/qr.svg"
    assert link["destination"] == "/products/serum"
    assert link["clicks"] == 0

    generated = make_link(api, creator["id"])
    assert generated["slug"].startswith("maya-glow-") and len(generated["slug"]) == len("maya-glow-") + 5
    assert generated["destination"] == "/"


def test_slug_is_unique_across_shops(api, other_api):
    mine = make_influencer(api)
    theirs = make_influencer(other_api)
    make_link(api, mine["id"], slug="spring-drop")
    response = other_api.post(f"/api/v1/influencers/{theirs['id']}/links", json={"slug": "SPRING-DROP"})
    assert response.status_code == 409
    assert "slug" in response.get_json()["errors"]


@pytest.mark.parametrize(
    "destination",
    [
        "https://evil.example/phish",
        "//evil.example/x",
        "javascript:alert(1)",
        "products/serum",
        "/\\evil.example",
        "/path with space",
        "",
        "http:/evil.example",
    ],
)
def test_destination_must_be_a_path_on_the_store(api, destination, db_session):
    creator = make_influencer(api)
    response = api.post(f"/api/v1/influencers/{creator['id']}/links", json={"destination": destination})
    assert response.status_code == 422
    assert "destination" in response.get_json()["errors"]


def test_bad_link_input(api):
    creator = make_influencer(api)
    url = f"/api/v1/influencers/{creator['id']}/links"
    assert api.post(url, json={"slug": "a"}).status_code == 422
    assert api.post(url, json={"slug": "has/slash"}).status_code == 422
    assert api.post(url, json={"discount_code_id": 999999}).status_code == 404
    assert api.post(url, data="nope", content_type="application/json").status_code == 400
    other = make_influencer(api)
    code = make_code(api, other["id"])
    wrong_owner = api.post(url, json={"discount_code_id": code["id"]})
    assert wrong_owner.status_code == 422
    assert "discount_code_id" in wrong_owner.get_json()["errors"]


def test_redirect_goes_to_the_store_with_ref_crid_and_utm(api, client, db_session):
    creator = make_influencer(api, platform="tiktok", campaign="Spring Glow")
    link = make_link(api, creator["id"], slug="maya-serum", destination="/products/serum?variant=42&ref=old")
    response = visit(client, "maya-serum", referer="https://www.tiktok.com/")
    assert response.status_code == 302
    host, path, query = redirect_params(response.headers["Location"])
    assert response.headers["Location"].startswith(f"https://{SHOP}/products/serum?")
    assert (host, path) == (SHOP, "/products/serum")
    assert query["variant"] == ["42"]
    assert query["ref"] == ["maya-serum"]
    assert query["utm_source"] == ["tiktok"]
    assert query["utm_medium"] == ["creator"]
    assert query["utm_campaign"] == ["Spring Glow"]
    [click] = clicks(db_session, link["id"])
    assert query["crid"] == [click.click_id]
    assert len(click.click_id) == 16 and click.click_id.isalnum()
    assert click.influencer_id == creator["id"]
    assert click.user_agent == HUMAN
    assert click.referrer == "https://www.tiktok.com/"
    assert click.ip_hash == expected_ip_hash("test-secret-key", "198.51.100.7")
    assert click.counted is True and click.bot is False
    assert click.clicked_at.tzinfo is not None
    assert response.headers["Cache-Control"] == "no-store"
    assert api.get(f"/api/v1/links/{link['id']}").get_json()["clicks"] == 1


def test_every_click_gets_a_new_click_id(api, app, db_session):
    creator = make_influencer(api)
    link = make_link(api, creator["id"])
    for _ in range(3):
        visit(app.test_client(), link["slug"], ip="203.0.113.9")
    ids = [c.click_id for c in clicks(db_session, link["id"])]
    assert len(ids) == 3 and len(set(ids)) == 3


def test_one_count_per_visitor_per_link_per_30_minutes(api, client, app, db_session):
    creator = make_influencer(api)
    link = make_link(api, creator["id"])
    other_link = make_link(api, creator["id"])
    for _ in range(3):
        assert visit(client, link["slug"]).status_code == 302
    assert len(clicks(db_session, link["id"])) == 3  # every click is stored
    assert counted(db_session, link["id"]) == 1  # one is counted
    # The same visitor on another link counts there.
    visit(client, other_link["slug"])
    assert counted(db_session, other_link["id"]) == 1
    # Another visitor (own browser, another network) counts.
    visit(app.test_client(), link["slug"], ua=DESKTOP, ip="192.0.2.44")
    assert counted(db_session, link["id"]) == 2
    # Half an hour later the first visitor counts again.
    db_session.execute(update(Click).values(clicked_at=utcnow() - timedelta(minutes=31)))
    db_session.commit()
    visit(client, link["slug"])
    assert counted(db_session, link["id"]) == 3
    visit(client, link["slug"])
    assert counted(db_session, link["id"]) == 3


def test_counted_clicks_reach_the_rollups_as_a_recount_would(api, app, runtime, db_session):
    from worker import engine

    creator = make_influencer(api)
    links = [make_link(api, creator["id"]) for _ in range(2)]
    for number in range(12):  # twelve visitors, each twice on one link, one of them a bot
        browser = app.test_client()
        for _ in range(2):
            visit(
                browser,
                links[number % 2]["slug"],
                ip=f"203.0.113.{number}",
                ua="Googlebot/2.1 (+http://www.google.com/bot.html)" if number == 5 else HUMAN,
            )
    shop_id = db_session.scalar(select(Click.shop_id).limit(1))
    days, months = rollup_cells(runtime, shop_id), month_cells(runtime, shop_id)
    assert sum(v["clicks"] for v in days.values()) == 11
    assert sum(v["clicks"] for v in months.values()) == 11
    roi = api.get("/api/v1/roi?group_by=influencer").get_json()
    assert roi["totals"]["clicks"] == 11
    with runtime.db.session() as s:
        engine.reattribute_shop(s, shop_id)
    assert (rollup_cells(runtime, shop_id), month_cells(runtime, shop_id)) == (days, months)


def test_cookieless_repeats_from_the_same_ip_and_browser_count_once(api, app, db_session):
    creator = make_influencer(api)
    link = make_link(api, creator["id"])
    for _ in range(2):
        visit(app.test_client(use_cookies=False), link["slug"], ip="198.51.100.20")
    assert counted(db_session, link["id"]) == 1
    visit(app.test_client(use_cookies=False), link["slug"], ip="198.51.100.21")
    assert counted(db_session, link["id"]) == 2


@pytest.mark.parametrize(
    "agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Twitterbot/1.0",
        "WhatsApp/2.23.20.0",
        "",
    ],
)
def test_bots_and_link_previewers_are_recorded_but_not_counted(api, app, db_session, agent):
    creator = make_influencer(api)
    link = make_link(api, creator["id"])
    response = visit(app.test_client(), link["slug"], ua=agent)
    assert response.status_code == 302  # previews still resolve
    [click] = clicks(db_session, link["id"])
    assert click.bot is True and click.counted is False
    assert "croi_vid" not in response.headers.get("Set-Cookie", "")
    assert api.get(f"/api/v1/links/{link['id']}").get_json()["clicks"] == 0


def test_head_requests_record_nothing(api, client, db_session):
    creator = make_influencer(api)
    link = make_link(api, creator["id"])
    response = client.head(f"/r/{link['slug']}", headers={"User-Agent": HUMAN})
    assert response.status_code == 302
    assert "crid" not in redirect_params(response.headers["Location"])[2]
    assert clicks(db_session, link["id"]) == []


def test_unknown_slug_is_404(client):
    assert client.get("/r/no-such-link", headers={"User-Agent": HUMAN}).status_code == 404


def test_trusted_proxy_hops_decides_which_address_is_the_visitors(api, app_config, db_session):
    creator = make_influencer(api)
    link = make_link(api, creator["id"])
    forwarded = {"X-Forwarded-For": "203.0.113.77"}

    visit(api.client, link["slug"], ip="10.0.0.2", **forwarded)
    direct = clicks(db_session, link["id"])[-1]
    assert direct.ip_hash == expected_ip_hash("test-secret-key", "10.0.0.2")  # header not trusted

    behind_proxy = create_app({**app_config, "TRUSTED_PROXY_HOPS": 1})
    try:
        visit(behind_proxy.test_client(), link["slug"], ip="10.0.0.2", **forwarded)
    finally:
        behind_proxy.extensions["creator_roi"].db.dispose()
    proxied = clicks(db_session, link["id"])[-1]
    assert proxied.ip_hash == expected_ip_hash("test-secret-key", "203.0.113.77")


def test_link_through_a_code_lands_on_the_discount_url(api, client, db_session):
    creator = make_influencer(api, platform="youtube")
    code = make_code(api, creator["id"], "MAYA+15")
    link = make_link(api, creator["id"], destination="/collections/serums", discount_code_id=code["id"])
    assert link["discount_code"] == "MAYA+15"
    response = visit(client, link["slug"])
    host, path, query = redirect_params(response.headers["Location"])
    assert (host, path) == (SHOP, "/discount/MAYA%2B15")
    _, inner_path, inner = redirect_params(query["redirect"][0])
    assert inner_path == "/collections/serums"
    [click] = clicks(db_session, link["id"])
    assert inner["ref"] == [link["slug"]] and inner["crid"] == [click.click_id]
    assert inner["utm_source"] == ["youtube"]


def test_list_patch_and_delete_links(api, client, db_session):
    maya = make_influencer(api)
    ben = make_influencer(api)
    first = make_link(api, maya["id"], slug="maya-one")
    make_link(api, maya["id"], slug="maya-two")
    make_link(api, ben["id"], slug="ben-one")
    assert [link["slug"] for link in api.get(f"/api/v1/influencers/{maya['id']}/links").get_json()["links"]] == [
        "maya-one",
        "maya-two",
    ]
    assert len(api.get("/api/v1/links").get_json()["links"]) == 3
    assert [link["slug"] for link in api.get(f"/api/v1/links?influencer_id={ben['id']}").get_json()["links"]] == [
        "ben-one"
    ]

    code = make_code(api, maya["id"])
    changed = api.patch(
        f"/api/v1/links/{first['id']}", json={"destination": "/pages/quiz", "discount_code_id": code["id"]}
    )
    assert changed.status_code == 200
    assert changed.get_json()["destination"] == "/pages/quiz"
    assert changed.get_json()["discount_code_id"] == code["id"]
    assert redirect_params(visit(client, "maya-one").headers["Location"])[1].startswith("/discount/")
    assert api.patch(f"/api/v1/links/{first['id']}", json={"destination": "https://x.example"}).status_code == 422
    cleared = api.patch(f"/api/v1/links/{first['id']}", json={"discount_code_id": None}).get_json()
    assert cleared["discount_code_id"] is None

    assert api.delete(f"/api/v1/links/{first['id']}").status_code == 204
    assert api.get(f"/api/v1/links/{first['id']}").status_code == 404
    assert visit(client, "maya-one").status_code == 404
    assert clicks(db_session, first["id"]) == []


def _decode(image: Image.Image) -> str:
    [result] = zxingcpp.read_barcodes(image.convert("L"))
    assert result.format == zxingcpp.BarcodeFormat.QRCode
    return result.text


def test_qr_png_decodes_back_to_the_link(api):
    creator = make_influencer(api)
    link = make_link(api, creator["id"], slug="poster-qr")
    response = api.get(link["qr_png_url"])
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert _decode(Image.open(io.BytesIO(response.data))) == link["url"]
    download = api.get(f"/api/v1/links/{link['id']}/qr.png?scale=3&download=1")
    assert "attachment" in download.headers["Content-Disposition"]
    assert api.get(f"/api/v1/links/{link['id']}/qr.png?scale=0").status_code == 422


def test_qr_svg_is_the_same_code(api):
    import segno

    creator = make_influencer(api)
    link = make_link(api, creator["id"], slug="sticker-qr")
    response = api.get(link["qr_svg_url"] + "?scale=4")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    svg = response.data.decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    # Rasterise the SVG's own path (segno draws dark modules as one path of unit moves) and decode it.
    expected = segno.make(link["url"], error="m", micro=False)
    width, height = expected.symbol_size(scale=4, border=4)
    assert f'width="{width}"' in svg and f'height="{height}"' in svg
    image = _rasterise_segno_svg(svg, width, height)
    assert _decode(image) == link["url"]


def _rasterise_segno_svg(svg: str, width: int, height: int) -> Image.Image:
    """Draw segno's path ("M x y h n ..." with stroke-width = scale) onto a white image."""
    import re

    path = re.search(r'<path[^>]*d="([^"]+)"', svg)
    stroke = re.search(r'stroke-width="([0-9.]+)"', svg)
    transform = re.search(r'transform="scale\(([0-9.]+)\)"', svg)
    assert path is not None
    scale = float(transform.group(1)) if transform else 1.0
    half = float(stroke.group(1)) / 2 if stroke else 0.5
    image = Image.new("L", (width, height), 255)
    pixels = image.load()
    x = y = 0.0
    for command, a, b in re.findall(r"([MmHhVv])\s*(-?[0-9.]+)(?:\s+(-?[0-9.]+))?", path.group(1)):
        if command in "Mm":
            dx, dy = float(a), float(b)
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
        elif command in "Hh":
            end = float(a) if command == "H" else x + float(a)
            for px in range(int(round(min(x, end) * scale)), int(round(max(x, end) * scale))):
                for py in range(int(round((y - half) * scale)), int(round((y + half) * scale))):
                    if 0 <= px < width and 0 <= py < height:
                        pixels[px, py] = 0
            x = end
    return image


def test_qr_and_lists_accept_the_session_token_in_the_query(api, client):
    creator = make_influencer(api)
    link = make_link(api, creator["id"])
    response = client.get(f"{link['qr_svg_url']}?id_token={session_token()}")  # an <img src> cannot send headers
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    listed = client.get(f"/api/v1/influencers/{creator['id']}/links?id_token={session_token()}")
    assert listed.status_code == 200 and listed.get_json()["links"][0]["id"] == link["id"]
    assert client.get(f"{link['qr_svg_url']}?id_token=forged").status_code == 401
