"""schemathesis drives every /api/v1 operation from the served OpenAPI document, with a
valid session token: whatever it sends, the API never answers 5xx.

(The schemathesis pytest plugin does not run under pytest 9, so the operations are driven
directly through their hypothesis strategies.)"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from factories import SHOP
from factories.admin import auth_headers

EXAMPLES_PER_OPERATION = 15


def _seed(api) -> None:
    creator = api.post(
        "/api/v1/influencers",
        json={"name": "Anna Lee", "handle": "anna.lee", "platform": "instagram", "campaign": "Spring"},
    )
    assert creator.status_code == 201
    cid = creator.json["id"]
    assert (
        api.post(f"/api/v1/influencers/{cid}/codes", json={"code": "ANNA15", "create_in_shopify": False}).status_code
        == 201
    )
    assert api.post(f"/api/v1/influencers/{cid}/links", json={"slug": "anna-lee"}).status_code == 201
    assert (
        api.post(
            "/api/v1/costs",
            json={"category": "fee", "amount": "100.00", "incurred_on": "2026-10-01", "influencer_id": cid},
        ).status_code
        == 201
    )


def test_no_operation_answers_5xx(app, api):
    _seed(api)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 40, "every /api/v1 route is in the document"
    server_errors: list[str] = []
    calls = 0

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(case=operation.as_strategy())
        def exercise(case):
            nonlocal calls
            response = case.call(headers=auth_headers(SHOP))
            calls += 1
            if response.status_code >= 500:
                server_errors.append(
                    f"{operation.label}: {response.status_code} for "  # noqa: B023  (run in this iteration)
                    f"path={case.path_parameters} query={case.query} body={case.body!r}"
                )

        exercise()
    assert calls >= len(operations) * 3
    assert server_errors == []
