"""Creators and campaigns through /api/v1, as the dashboard and outside scripts use them."""

from __future__ import annotations

from sqlalchemy import func, select

from factories.registry import make_influencer
from models import Campaign, FollowerSnapshot, Influencer


def test_create_creator_returns_it_and_starts_the_followers_history(api):
    response = api.post(
        "/api/v1/influencers",
        json={
            "name": "Maya Kim",
            "handle": "@maya.glow",
            "platform": "tiktok",
            "followers": 18500,
            "email": "maya@example.com",
            "campaign": "Spring Glow",
            "notes": "prefers reels",
            "commission_rate": "0.10",
        },
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["handle"] == "maya.glow"
    assert body["platform"] == "tiktok"
    assert body["followers"] == 18500
    assert body["campaign"] == "Spring Glow"
    assert isinstance(body["id"], int) and isinstance(body["campaign_id"], int)
    assert body["commission_rate"] == "0.1000"
    assert body["archived"] is False
    assert [h["followers"] for h in body["followers_history"]] == [18500]

    again = api.get(f"/api/v1/influencers/{body['id']}").get_json()
    assert again["email"] == "maya@example.com" and again["notes"] == "prefers reels"


def test_campaign_named_on_creators_is_created_once_whatever_the_case(api, db_session):
    first = make_influencer(api, campaign="Holiday Drop")
    second = make_influencer(api, campaign="holiday drop")
    assert first["campaign_id"] == second["campaign_id"]
    assert db_session.scalar(select(func.count()).select_from(Campaign)) == 1
    campaigns = api.get("/api/v1/campaigns").get_json()["campaigns"]
    assert [(c["name"], c["influencers"]) for c in campaigns] == [("Holiday Drop", 2)]


def test_followers_history_grows_only_when_the_count_changes(api):
    creator = make_influencer(api, followers=1000)
    url = f"/api/v1/influencers/{creator['id']}"
    assert api.patch(url, json={"followers": 1000}).status_code == 200
    assert api.patch(url, json={"followers": 2500}).status_code == 200
    assert api.patch(url, json={"notes": "rising fast"}).status_code == 200
    body = api.patch(url, json={"followers": 4100}).get_json()
    assert [h["followers"] for h in body["followers_history"]] == [1000, 2500, 4100]
    assert body["followers"] == 4100 and body["notes"] == "rising fast"


def test_list_filters_by_platform_and_campaign_and_hides_archived(api):
    a = make_influencer(api, name="Ana", platform="youtube", campaign="Launch")
    b = make_influencer(api, name="Ben", platform="youtube")
    c = make_influencer(api, name="Cleo", platform="twitch", campaign="Launch")
    assert api.delete(f"/api/v1/influencers/{b['id']}").status_code == 200

    def names(query: str = "") -> list[str]:
        response = api.get(f"/api/v1/influencers{query}")
        assert response.status_code == 200
        return [i["name"] for i in response.get_json()["influencers"]]

    assert names() == ["Ana", "Cleo"]
    assert names("?archived=true") == ["Ben"]
    assert names("?archived=all") == ["Ana", "Ben", "Cleo"]
    assert names("?platform=youtube") == ["Ana"]
    assert names(f"?campaign_id={a['campaign_id']}") == ["Ana", "Cleo"]
    assert c["campaign_id"] == a["campaign_id"]
    assert api.get("/api/v1/influencers?archived=maybe").status_code == 422


def test_delete_archives_and_patch_restores(api, db_session):
    creator = make_influencer(api)
    url = f"/api/v1/influencers/{creator['id']}"
    archived = api.delete(url)
    assert archived.status_code == 200
    assert archived.get_json()["archived"] is True and archived.get_json()["archived_at"]
    assert api.get(url).status_code == 200  # archived, not gone
    assert db_session.get(Influencer, creator["id"]).archived_at is not None
    restored = api.patch(url, json={"archived": False}).get_json()
    assert restored["archived"] is False and restored["archived_at"] is None


def test_patch_changes_campaign_and_can_clear_it(api):
    creator = make_influencer(api, campaign="Summer")
    url = f"/api/v1/influencers/{creator['id']}"
    moved = api.patch(url, json={"campaign": "Autumn", "platform": "pinterest", "name": "New Name"}).get_json()
    assert (moved["campaign"], moved["platform"], moved["name"]) == ("Autumn", "pinterest", "New Name")
    cleared = api.patch(url, json={"campaign": None}).get_json()
    assert cleared["campaign"] is None and cleared["campaign_id"] is None


def test_handle_is_unique_per_shop_case_insensitively_and_409_names_the_holder(api, other_api):
    make_influencer(api, name="Maya Kim", handle="MayaGlow")
    response = api.post("/api/v1/influencers", json={"name": "Copy", "handle": "@mayaglow", "platform": "x"})
    assert response.status_code == 409
    assert "Maya Kim" in response.get_json()["errors"]["handle"][0]
    # Another shop may have a creator with the same handle.
    assert (
        other_api.post("/api/v1/influencers", json={"name": "Other", "handle": "mayaglow", "platform": "x"}).status_code
        == 201
    )


def test_failed_patch_writes_nothing(api, db_session):
    make_influencer(api, handle="taken_handle")
    creator = make_influencer(api, followers=500)
    url = f"/api/v1/influencers/{creator['id']}"
    response = api.patch(url, json={"followers": 9000, "handle": "TAKEN_HANDLE", "campaign": "Never Made"})
    assert response.status_code == 409
    body = api.get(url).get_json()
    assert body["followers"] == 500
    assert [h["followers"] for h in body["followers_history"]] == [500]
    assert db_session.scalar(select(Campaign).where(Campaign.name == "Never Made")) is None
    invalid = api.patch(url, json={"followers": 9000, "email": "not-an-email"})
    assert invalid.status_code == 422
    assert api.get(url).get_json()["followers"] == 500


def test_bad_input_answers_400_or_422_per_field(api, db_session):
    malformed = api.post("/api/v1/influencers", data="{not json", content_type="application/json")
    assert malformed.status_code == 400
    assert "body" in malformed.get_json()["errors"]
    assert api.post("/api/v1/influencers", json=["a", "list"]).status_code == 400

    missing = api.post("/api/v1/influencers", json={})
    assert missing.status_code == 422
    assert set(missing.get_json()["errors"]) == {"name", "handle", "platform"}

    cases = [
        ({"platform": "myspace"}, "platform"),
        ({"followers": -1}, "followers"),
        ({"followers": "many"}, "followers"),
        ({"email": "nope"}, "email"),
        ({"handle": "has spaces"}, "handle"),
        ({"name": "   "}, "name"),
        ({"commission_rate": "1.5"}, "commission_rate"),
        ({"colour": "blue"}, "colour"),
    ]
    for change, field in cases:
        body = {"name": "Valid", "handle": "valid_handle", "platform": "instagram", **change}
        response = api.post("/api/v1/influencers", json=body)
        assert response.status_code == 422, change
        assert field in response.get_json()["errors"], change
    assert db_session.scalar(select(func.count()).select_from(Influencer)) == 0
    assert db_session.scalar(select(func.count()).select_from(FollowerSnapshot)) == 0


def test_unknown_ids_are_404_and_no_token_is_401(api, client):
    assert api.get("/api/v1/influencers/999999").status_code == 404
    assert api.patch("/api/v1/influencers/999999", json={"notes": "x"}).status_code == 404
    assert api.delete("/api/v1/influencers/999999").status_code == 404
    response = client.get("/api/v1/influencers")
    assert response.status_code == 401
    assert response.headers["X-Shopify-Retry-Invalid-Session-Request"] == "1"


def test_campaign_crud(api, db_session):
    created = api.post("/api/v1/campaigns", json={"name": "Back to School"})
    assert created.status_code == 201
    campaign = created.get_json()
    assert campaign["name"] == "Back to School" and campaign["influencers"] == 0
    url = f"/api/v1/campaigns/{campaign['id']}"

    assert api.post("/api/v1/campaigns", json={"name": "back to school"}).status_code == 409
    assert api.post("/api/v1/campaigns", json={"name": ""}).status_code == 422
    assert api.post("/api/v1/campaigns", json={}).status_code == 422

    creator = make_influencer(api, campaign="Back to School")
    assert api.get(url).get_json()["influencers"] == 1
    renamed = api.patch(url, json={"name": "BTS 2026"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "BTS 2026"
    assert api.get(f"/api/v1/influencers/{creator['id']}").get_json()["campaign"] == "BTS 2026"

    other = api.post("/api/v1/campaigns", json={"name": "Other"}).get_json()
    assert api.patch(f"/api/v1/campaigns/{other['id']}", json={"name": "bts 2026"}).status_code == 409

    assert api.patch(url, json={}).status_code == 422
    archived = api.delete(url)
    assert archived.status_code == 200 and archived.get_json()["archived"] is True
    assert api.get(url).get_json()["archived"] is True
    listed = {c["name"] for c in api.get("/api/v1/campaigns").get_json()["campaigns"]}
    assert listed == {"Other"}
    assert [c["name"] for c in api.get("/api/v1/campaigns?archived=true").get_json()["campaigns"]] == ["BTS 2026"]
    assert api.get("/api/v1/campaigns?archived=maybe").status_code == 422
    # Like every list, it takes the session token in the query (and ignores a cache buster).
    assert api.get("/api/v1/campaigns?archived=true&id_token=x&_=1").get_json()["campaigns"][0]["name"] == "BTS 2026"
    # Its creators keep it: their history and figures stay grouped under it.
    assert api.get(f"/api/v1/influencers/{creator['id']}").get_json()["campaign"] == "BTS 2026"
    restored = api.patch(url, json={"archived": False})
    assert restored.status_code == 200 and restored.get_json()["archived"] is False
    assert len(api.get("/api/v1/campaigns").get_json()["campaigns"]) == 2


def test_rising_creators_sort_by_follower_growth_over_30_days(api, db_session):
    from datetime import timedelta

    from sqlalchemy import update

    from models import utcnow

    steady = make_influencer(api, name="Steady", followers=10000)
    rising = make_influencer(api, name="Rising", followers=1000)
    from_zero = make_influencer(api, name="From Zero", followers=0)
    db_session.execute(update(FollowerSnapshot).values(recorded_at=utcnow() - timedelta(days=40)))
    db_session.commit()
    newcomer = make_influencer(api, name="Newcomer", followers=500)
    api.patch(f"/api/v1/influencers/{steady['id']}", json={"followers": 11000})
    api.patch(f"/api/v1/influencers/{rising['id']}", json={"followers": 1200})
    api.patch(f"/api/v1/influencers/{rising['id']}", json={"followers": 1500})
    api.patch(f"/api/v1/influencers/{from_zero['id']}", json={"followers": 100})

    listed = api.get("/api/v1/influencers?sort=rising").get_json()["influencers"]
    assert [(i["name"], i["followers_change_30d"], i["followers_growth_30d"]) for i in listed] == [
        ("Rising", 500, 0.5),
        ("Steady", 1000, 0.1),
        ("Newcomer", 0, 0.0),
        ("From Zero", 100, None),
    ]
    one = api.get(f"/api/v1/influencers/{rising['id']}").get_json()
    assert (one["followers_change_30d"], one["followers_growth_30d"]) == (500, 0.5)
    assert [h["followers"] for h in one["followers_history"]] == [1000, 1200, 1500]
    assert newcomer["followers_growth_30d"] == 0.0
    assert api.get("/api/v1/influencers?sort=loudest").status_code == 422
