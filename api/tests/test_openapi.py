"""The OpenAPI document (`/openapi.json`): a valid OpenAPI 3 document, the same operations as
before, and worth reading: summaries, descriptions without internal notes, tags, examples,
documented errors and the print token's security scheme. The docs UIs use bundled assets."""

from __future__ import annotations

import importlib
import json
import re

import pytest
from django.urls import clear_url_caches
from openapi_spec_validator import validate

OPERATIONS = {
    ("/", "get", "root_retrieve"),
    ("/health", "get", "health_retrieve"),
    ("/app/access_tokens/", "post", "app_access_tokens_create"),
    ("/app/prepare_issue/", "post", "app_prepare_issue_create"),
    ("/app/credentials/", "post", "app_credentials"),
    ("/app/print/", "post", "app_print"),
    ("/documentation/DataProviderEventsResult/", "post", "documentation_DataProviderEventsResult_create"),
    ("/documentation/V2Event/", "post", "documentation_V2Event_create"),
}
# Words of code comments, issue references and spec section numbers: none belongs in the document.
INTERNAL = re.compile(r"adrf|APIView|initial\(\)|sync_to_async|thread hop|[Ii]ssue \"|§|\.md\b|TODO|XXX|FIXME|Performance\)")


@pytest.fixture(scope="module")
def document():
    from django.test import Client

    response = Client().get("/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def descriptions(node, where="$"):
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("description", "summary", "title") and isinstance(value, str):
                yield where + "." + key, value
            else:
                yield from descriptions(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from descriptions(value, f"{where}[{index}]")


def test_the_document_is_valid_openapi_3(document):
    assert document["openapi"].startswith("3.")
    validate(document)


def test_the_operations_and_paths_are_unchanged(document):
    assert {(path, method, op["operationId"]) for path, method, op in operations(document)} == OPERATIONS


def test_every_operation_has_a_summary_a_description_and_tags(document):
    for path, method, operation in operations(document):
        assert operation.get("summary"), (path, method)
        assert len(operation.get("description", "")) > 80, (path, method)
        assert operation.get("tags"), (path, method)
    assert {tag["name"] for tag in document["tags"]} >= {tag for *_, op in operations(document) for tag in op["tags"]}


def test_no_description_leaks_internal_notes(document):
    leaks = [(where, text) for where, text in descriptions(document) if INTERNAL.search(text)]
    assert leaks == []


def test_error_responses_are_documented_with_codes_and_examples(document):
    for path, method, operation in operations(document):
        for status, response in operation["responses"].items():
            if status.startswith(("4", "5")):
                assert response["description"], (path, method, status)
                assert response["content"]["application/json"].get("examples"), (path, method, status)
    print_errors = document["paths"]["/app/print/"]["post"]["responses"]
    assert "`not_authenticated`" in print_errors["401"]["description"]
    assert "`invalid_signature`" in print_errors["400"]["description"]


def test_request_and_response_examples_hold_sample_events(document):
    credentials = document["paths"]["/app/credentials/"]["post"]
    request_examples = credentials["requestBody"]["content"]["application/json"]["examples"]
    blob = next(iter(request_examples.values()))["value"]["events"][0]
    assert set(blob) == {"payload", "signature"}
    assert credentials["responses"]["200"]["content"]["application/json"]["examples"]


def test_the_print_token_and_the_inge6_jwt_are_security_schemes(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["PrintToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": schemes["PrintToken"]["description"],
    }
    assert "Token <key>" in schemes["PrintToken"]["description"]
    assert schemes["Inge6Jwt"]["scheme"] == "bearer"
    assert document["paths"]["/app/print/"]["post"]["security"] == [{"PrintToken": []}]
    assert document["paths"]["/app/access_tokens/"]["post"]["security"] == [{"Inge6Jwt": []}]


@pytest.fixture
def docs_ui(settings):
    import coronacheck.urls

    settings.API_DOCS_UI_ENABLED = True
    importlib.reload(coronacheck.urls)
    clear_url_caches()
    yield
    settings.API_DOCS_UI_ENABLED = False
    importlib.reload(coronacheck.urls)
    clear_url_caches()


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
def test_the_docs_uis_load_bundled_assets_not_a_cdn(docs_ui, client, path):
    page = client.get(path)
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower() and "@latest" not in html
    asset = re.search(r'src="(/static/drf_spectacular_sidecar/[^"]+\.js)"', html).group(1)
    assert client.get(asset).status_code == 200


def test_the_docs_uis_are_off_unless_enabled(client, settings):
    assert not settings.API_DOCS_UI_ENABLED
    assert client.get("/docs").status_code == 404
