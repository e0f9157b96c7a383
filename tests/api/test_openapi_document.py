"""GET /openapi.json: a valid OpenAPI 3.1 document that covers every REST route."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from flask import Flask
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from tests.support.server import LiveServer
from webapp.api.openapi import OPERATIONS

DOCUMENTED_OUTSIDE_API = {"/health", "/ready", "/ws/status", "/ws/stats"}


@pytest.fixture
def document(server: LiveServer) -> dict[str, Any]:
    """The live server's document."""
    response = requests.get(f"{server.url}/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    return dict(response.json())


def _openapi_path(rule: str) -> str:
    """Flask's ``/a/<int:id>`` is OpenAPI's ``/a/{id}``."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    """openapi-spec-validator accepts it, and it says 3.1."""
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_the_validator_would_catch_a_broken_document(document: dict[str, Any]) -> None:
    """The check above can fail: a response without its description is refused."""
    broken = dict(document)
    broken["paths"] = {"/health": {"get": {"responses": {"200": {}}}}}
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


def undocumented_routes(app: Flask, document: dict[str, Any]) -> set[tuple[str, str]]:
    """(path, method) of every /api rule (and ops route) the document lacks."""
    expected = set()
    for rule in app.url_map.iter_rules():
        if not (rule.rule.startswith("/api/") or rule.rule in DOCUMENTED_OUTSIDE_API):
            continue
        for method in rule.methods or ():
            if method not in ("HEAD", "OPTIONS"):
                expected.add((_openapi_path(rule.rule), method.lower()))
    documented = {
        (path, method) for path, item in document["paths"].items() for method in item
    }
    return expected - documented


def test_every_api_route_is_documented(app: Flask, document: dict[str, Any]) -> None:
    """Each Flask rule under /api, and the ops routes, with each of its methods."""
    assert undocumented_routes(app, document) == set()
    operations = [op for item in document["paths"].values() for op in item.values()]
    assert len(operations) == len(OPERATIONS) >= 47


def test_a_route_added_without_its_documentation_fails(app: Flask) -> None:
    """A view registered with no OPERATIONS entry is reported by the check above."""
    app.add_url_rule("/api/not-documented/<int:item_id>", "extra.view", lambda: {})
    with app.test_client() as client:
        document = client.get("/openapi.json").get_json()
    assert undocumented_routes(app, document) == {
        ("/api/not-documented/{item_id}", "get")
    }


def test_security_schemes_and_their_use(document: dict[str, Any]) -> None:
    """Bearer JWT and X-API-Key; login is public, publish takes either, me a user."""
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert schemes["apiKeyAuth"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
    }
    paths = document["paths"]
    assert not paths["/api/auth/login"]["post"].get("security")
    assert not paths["/health"]["get"].get("security")
    assert paths["/api/publish"]["post"]["security"] == [
        {"bearerAuth": []},
        {"apiKeyAuth": []},
    ]
    assert paths["/api/auth/me"]["get"]["security"] == [{"bearerAuth": []}]


def test_bodies_queries_and_errors_come_from_the_models(
    document: dict[str, Any],
) -> None:
    """The request schema is the pydantic model's; errors have the one JSON shape."""
    schemas = document["components"]["schemas"]
    publish = document["paths"]["/api/publish"]["post"]
    body_ref = publish["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schemas[body_ref.rsplit("/", 1)[1]]
    assert set(body["required"]) == {"namespace", "event", "data", "target"}
    assert body["additionalProperties"] is False  # Body: extra="forbid"
    assert body["properties"]["idempotency_key"]["anyOf"][0]["maxLength"] == 128
    assert {"202", "400", "401", "403", "404", "409", "413", "503"} <= set(
        publish["responses"]
    )
    assert "idempotency_conflict" in publish["responses"]["409"]["description"]
    error = schemas["ErrorResponse"]
    assert error["required"] == ["error"]
    assert set(schemas["ErrorObject"]["required"]) == {"code", "message"}

    events = document["paths"]["/api/events"]["get"]
    params = {p["name"]: p for p in events["parameters"] if p["in"] == "query"}
    assert set(params) == {
        "namespace",
        "room",
        "type",
        "since_id",
        "since",
        "severity",
        "limit",
        "tenant_id",
    }
    assert params["since"]["schema"]["type"] == "string"
    assert params["since"]["schema"]["format"] == "date-time"
    assert params["limit"]["schema"]["minimum"] == 1
    get_engagement = document["paths"]["/api/engagements/{engagement_id}"]["get"]
    (path_id,) = get_engagement["parameters"]
    assert path_id["schema"]["minimum"] == 1
    assert path_id["schema"]["maximum"] == 2**63 - 1


def test_errors_served_match_the_documented_shape(
    server: LiveServer, document: dict[str, Any]
) -> None:
    """A real 401 and 400 carry the documented error fields, at documented codes."""
    me = requests.get(f"{server.url}/api/auth/me", timeout=10)
    login = requests.post(f"{server.url}/api/auth/login", json={"email": 1}, timeout=10)
    paths = document["paths"]
    assert me.status_code == 401 and "401" in paths["/api/auth/me"]["get"]["responses"]
    assert login.status_code == 400
    assert "400" in paths["/api/auth/login"]["post"]["responses"]
    for response in (me, login):
        assert set(response.json()) == {"error"}
        assert {"code", "message"} <= set(response.json()["error"])


def test_query_models_name_the_statuses_the_models_store() -> None:
    """The status filters' documented values are the stored ones."""
    from typing import get_args

    from webapp.api.schemas import AlertsQuery, InterventionsQuery
    from webapp.models.alert import ALERT_STATUSES
    from webapp.models.intervention import INTERVENTION_STATUSES

    for query, stored in (
        (AlertsQuery, ALERT_STATUSES),
        (InterventionsQuery, INTERVENTION_STATUSES),
    ):
        (literal, _none) = get_args(query.model_fields["status"].annotation)
        assert set(get_args(literal)) == set(stored)
