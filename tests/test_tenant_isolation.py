"""Shop B's token never reaches shop A's data: every route with an id answers 404 (never 403,
never a hint that the id exists), ids in bodies too, and lists hold only B's own rows."""

from __future__ import annotations

import re

import pytest

from factories.registry import make_code, make_cost, make_influencer, make_link, make_plan, make_post

ID_PARAM = re.compile(r"<int:(\w+)>")


@pytest.fixture
def shop_a(api):
    """One of everything in shop A, keyed by the URL parameter that names it."""
    creator = make_influencer(api, campaign="A Campaign")
    code = make_code(api, creator["id"], "ASHOP10")
    link = make_link(api, creator["id"], discount_code_id=code["id"])
    return {
        "influencer_id": creator["id"],
        "campaign_id": creator["campaign_id"],
        "code_id": code["id"],
        "link_id": link["id"],
        "cost_id": make_cost(api, influencer_id=creator["id"])["id"],
        "post_id": make_post(api, creator["id"], url="https://instagram.com/p/a")["id"],
        "plan_id": make_plan(api, creator["id"], commission_percent="10")["id"],
    }


def _routes_with_ids(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        params = ID_PARAM.findall(rule.rule)
        if params:
            for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
                yield rule, method, params


def _snapshot(api, ids):
    urls = [
        f"/api/v1/influencers/{ids['influencer_id']}",
        f"/api/v1/campaigns/{ids['campaign_id']}",
        f"/api/v1/codes/{ids['code_id']}",
        f"/api/v1/links/{ids['link_id']}",
        f"/api/v1/costs/{ids['cost_id']}",
        f"/api/v1/posts/{ids['post_id']}",
        f"/api/v1/plans/{ids['plan_id']}",
    ]
    answers = {url: api.get(url) for url in urls}
    assert all(r.status_code == 200 for r in answers.values())
    return {url: r.get_json() for url, r in answers.items()}


def test_every_route_answers_404_to_another_shops_ids(app, api, other_api, shop_a):
    before = _snapshot(api, shop_a)
    checked = []
    for rule, method, params in _routes_with_ids(app):
        if not set(params) <= set(shop_a):
            continue  # a kind of record this suite does not make (another part's routes)
        path = rule.rule
        for name in params:
            path = path.replace(f"<int:{name}>", str(shop_a[name]))
        kwargs = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
        response = getattr(other_api, method.lower())(path, **kwargs)
        assert response.status_code == 404, (method, rule.rule, response.status_code, response.get_json())
        assert response.get_json()["errors"], (method, rule.rule)
        checked.append((method, rule.rule))
    # Every registry route with an id was exercised (a new one is picked up by walking the URL map).
    assert len(checked) >= 24
    assert {
        ("DELETE", "/api/v1/influencers/<int:influencer_id>"),
        ("GET", "/api/v1/links/<int:link_id>/qr.png"),
        ("POST", "/api/v1/influencers/<int:influencer_id>/codes"),
        ("PATCH", "/api/v1/costs/<int:cost_id>"),
    } <= set(checked)
    assert _snapshot(api, shop_a) == before  # nothing changed, nothing archived or deleted


def test_a_foreign_id_looks_exactly_like_a_missing_one(other_api, shop_a):
    foreign = other_api.get(f"/api/v1/influencers/{shop_a['influencer_id']}")
    missing = other_api.get("/api/v1/influencers/987654321")
    assert (foreign.status_code, foreign.get_json()) == (missing.status_code, missing.get_json())


def test_ids_in_bodies_and_filters_are_scoped_too(api, other_api, shop_a):
    mine = make_influencer(other_api)
    my_code = make_code(other_api, mine["id"], "BSHOP10")
    my_link = make_link(other_api, mine["id"])
    a_creator = shop_a["influencer_id"]

    posts = other_api.post(
        "/api/v1/posts",
        json={
            "influencer_id": a_creator,
            "platform": "instagram",
            "content_type": "reel",
            "posted_at": "2026-01-02T00:00:00Z",
        },
    )
    assert posts.status_code == 404
    costs = other_api.post(
        "/api/v1/costs",
        json={"category": "fee", "amount": "1", "incurred_on": "2026-01-02", "influencer_id": a_creator},
    )
    assert costs.status_code == 404
    assert other_api.patch(f"/api/v1/codes/{my_code['id']}", json={"influencer_id": a_creator}).status_code == 404
    assert (
        other_api.patch(f"/api/v1/links/{my_link['id']}", json={"discount_code_id": shop_a["code_id"]}).status_code
        == 404
    )
    assert (
        other_api.post(
            f"/api/v1/influencers/{mine['id']}/links", json={"discount_code_id": shop_a["code_id"]}
        ).status_code
        == 404
    )
    imported = other_api.post(
        "/api/v1/posts/import",
        content_type="text/csv",
        data=(f"influencer_id,platform,content_type,posted_at\n{a_creator},instagram,reel,2026-01-02\n").encode(),
    )
    assert imported.get_json() == {
        "created": 0,
        "errors": [{"line": 2, "errors": {"influencer_id": ["influencer not found"]}}],
    }

    for path, key in [
        ("/api/v1/influencers?archived=all", "influencers"),
        ("/api/v1/campaigns", "campaigns"),
        ("/api/v1/codes", "codes"),
        ("/api/v1/links", "links"),
        ("/api/v1/costs", "costs"),
        ("/api/v1/posts", "posts"),
    ]:
        rows = other_api.get(path).get_json()[key]
        assert all(row["id"] not in shop_a.values() or row.get("influencer_id") == mine["id"] for row in rows)
    for path, key in [
        ("/api/v1/codes", "codes"),
        ("/api/v1/links", "links"),
        ("/api/v1/costs", "costs"),
        ("/api/v1/posts", "posts"),
    ]:
        assert other_api.get(f"{path}?influencer_id={a_creator}").get_json()[key] == []
    assert other_api.get("/api/v1/costs").get_json()["total"] == "0.00"
    assert other_api.get(f"/api/v1/plans?influencer_id={a_creator}").get_json()["plans"] == []
    assert other_api.get(f"/api/v1/commissions?influencer_id={a_creator}").status_code == 404
    assert [c["code"] for c in other_api.get("/api/v1/codes").get_json()["codes"]] == ["BSHOP10"]
