"""GET /api/v1/openapi.json documents every /api/v1 route from the marshmallow schemas."""

from __future__ import annotations

import json
import re

from flask import Blueprint, Flask
from marshmallow import Schema, fields

from models import CONTENT_TYPES, COST_CATEGORIES, PLATFORMS
from plugin.api.openapi import build_spec, documented


def _spec(client):
    response = client.get("/api/v1/openapi.json")  # no session token: the document is public
    assert response.status_code == 200
    return response.get_json()


def _refs(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref":
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)


def test_every_api_route_and_method_is_documented(app, client):
    spec = _spec(client)
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "Creator ROI API"
    expected = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/v1"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            expected |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented_ops = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert expected == documented_ops
    assert ("/api/v1/influencers/{influencer_id}/links", "post") in documented_ops
    assert ("/api/v1/posts/import", "post") in documented_ops
    ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_request_and_answer_schemas_come_from_marshmallow(client):
    spec = _spec(client)
    schemas = spec["components"]["schemas"]
    create = spec["paths"]["/api/v1/influencers"]["post"]
    ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schemas[ref.rsplit("/", 1)[1]]
    assert set(body["required"]) == {"name", "handle", "platform"}
    assert body["properties"]["platform"]["enum"] == list(PLATFORMS)
    assert body["properties"]["followers"]["minimum"] == 0
    assert set(create["responses"]) >= {"201", "400", "401", "409", "422"}
    assert create["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].endswith("/Influencer")

    cost = schemas["CostInput"]["properties"]
    assert cost["category"]["enum"] == list(COST_CATEGORIES)
    assert schemas["PostInput"]["properties"]["content_type"]["enum"] == list(CONTENT_TYPES)
    one = spec["paths"]["/api/v1/links/{link_id}"]["get"]
    assert {"in": "path", "name": "link_id", "required": True, "schema": {"type": "integer"}} in one["parameters"]
    assert "404" in one["responses"]
    assert "image/png" in spec["paths"]["/api/v1/links/{link_id}/qr.png"]["get"]["responses"]["200"]["content"]
    assert "text/csv" in spec["paths"]["/api/v1/posts/import"]["post"]["requestBody"]["content"]
    amount = schemas["CostInput"]["properties"]["amount"]
    assert (amount["type"], amount["format"]) == ("string", "decimal")  # money is a decimal string
    assert "minimum" not in amount
    listing = spec["paths"]["/api/v1/costs"]["get"]["parameters"]
    assert {p["name"] for p in listing if p["in"] == "query"} >= {"influencer_id", "campaign_id", "from", "to"}


def test_auth_is_declared_and_every_reference_resolves(client):
    spec = _spec(client)
    assert spec["components"]["securitySchemes"]["sessionToken"]["scheme"] == "bearer"
    assert spec["security"] == [{"sessionToken": []}]
    assert spec["paths"]["/api/v1/openapi.json"]["get"]["security"] == []
    for ref in set(_refs(spec)):
        assert ref.startswith("#/components/schemas/")
        assert ref.rsplit("/", 1)[1] in spec["components"]["schemas"], ref
    json.dumps(spec)  # plain JSON all the way down


def test_another_parts_route_is_documented_by_declaring_its_schemas():
    class RoiQuery(Schema):
        group_by = fields.String(required=True)

    class RoiTable(Schema):
        currency = fields.String()

    bp = Blueprint("api", __name__, url_prefix="/api/v1")

    @bp.get("/roi")
    @documented(query=RoiQuery, response=RoiTable, errors=(422,))
    def roi():
        """ROI per group."""

    @bp.get("/sync")
    def sync():
        """Webhook health."""

    app = Flask(__name__)
    app.register_blueprint(bp)
    spec = build_spec(app)
    op = spec["paths"]["/api/v1/roi"]["get"]
    assert op["summary"] == "ROI per group."
    assert op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == "#/components/schemas/RoiTable"
    assert [p["name"] for p in op["parameters"]] == ["group_by"]
    assert spec["paths"]["/api/v1/sync"]["get"]["summary"] == "Webhook health."
