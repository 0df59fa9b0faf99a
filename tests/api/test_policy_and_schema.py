"""Read-only policy endpoints, the API root, the OpenAPI document and its docs page."""

import pytest
from django.test import Client
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


def test_tiers_come_with_their_response_targets(alice_api):
    tiers = {t["slug"]: t for t in alice_api.get("/api/v1/tiers/").json()}

    business = tiers["business"]
    assert business["guaranteed_response"] is True
    blocker = next(t for t in business["response_targets"] if t["priority"] == 0)
    assert blocker["label"] == "2 hours"
    assert blocker["clock"] == "24x7"
    assert all(not t["guaranteed"] for t in tiers["free"]["response_targets"])


def test_priorities_carry_the_policy_wording_and_each_tiers_target(alice_api):
    priorities = alice_api.get("/api/v1/priorities/").json()

    assert [p["value"] for p in priorities] == [0, 1, 2, 3, 4]
    blocker = priorities[0]
    assert blocker["label"] == "P0 Blocker"
    assert blocker["description"].startswith("Production use of the Software")
    targets = {t["tier"]: t["label"] for t in blocker["targets"]}
    assert targets["business"] == "2 hours"
    assert "best effort" in targets["free"]


def test_api_root_lists_the_collections(alice_api):
    endpoints = alice_api.get("/api/v1/").json()["endpoints"]

    assert endpoints["tickets"] == "http://testserver/api/v1/tickets/"
    assert {"tiers", "priorities"} <= set(endpoints)
    assert all("<" not in url for url in endpoints.values())


def test_policy_endpoints_need_credentials():
    assert Client().get("/api/v1/tiers/").status_code == 401


def test_schema_is_valid_openapi_and_documents_every_operation(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    schema = response.json()

    validate_schema(schema)  # the OpenAPI 3.0 JSON schema
    operations = [
        (path, method, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]
    assert len(operations) >= 12
    for path, method, operation in operations:
        where = f"{method.upper()} {path}"
        assert operation.get("summary"), where
        assert {"401", "429"} <= set(operation["responses"]), where
        for status, response_doc in operation["responses"].items():
            assert response_doc.get("description") or status.startswith("2"), where
            media = response_doc.get("content", {})
            if status != "200" or "application/json" in media:
                assert any(m.get("examples") for m in media.values()), (
                    where,
                    status,
                )
        if method in {"post", "patch"}:
            assert "400" in operation["responses"], where


def test_schema_documents_every_field(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    undocumented = []
    for name, component in schema["components"]["schemas"].items():
        if name.endswith("Enum") or name in {"Error"}:
            continue
        for field, spec in component.get("properties", {}).items():
            described = spec.get("description") or spec.get("$ref") or spec.get("allOf")
            if not described and field not in SELF_EXPLANATORY:
                undocumented.append(f"{name}.{field}")
    assert undocumented == []


# Fields whose name and type say everything (ids, names, timestamps, labels).
SELF_EXPLANATORY = {
    "id",
    "name",
    "email",
    "number",
    "url",
    "portal_url",
    "subject",
    "created_at",
    "updated_at",
    "solved_at",
    "closed_at",
    "priority_label",
    "status_label",
    "version_reported",
    "filename",
    "sha256",
    "download_url",
    "from_priority",
    "to_priority",
    "slug",
    "response_summary",
    "guaranteed_response",
    "realtime_sessions",
    "realtime_max_priority",
    "community_slack",
    "priority",
    "amount",
    "value",
    "label",
    "tier",
    "tier_name",
    "is_support",
    "body_html",
    "next",
    "previous",
    "results",
}


def test_docs_page_is_served_from_our_static_files_without_inline_script(client):
    response = client.get("/api/docs/")
    page = response.content.decode()

    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in page
    assert "cdn" not in page.lower()
    assert "<script>" not in page
    assert (
        "unsafe-inline"
        not in response["Content-Security-Policy"].split("script-src")[1].split(";")[0]
    )
