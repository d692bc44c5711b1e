"""The contract is a file: the committed OpenAPI document must match the code."""

from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from boxoffice.server.openapi import render_openapi

COMMITTED = Path(__file__).resolve().parents[1] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_code(app: FastAPI) -> None:
    assert COMMITTED.read_bytes() == render_openapi(app), (
        "docs/openapi.json is stale: run `make openapi` and commit the result"
    )


def test_docs_page_and_its_assets_are_served_locally(http: TestClient) -> None:
    page = http.get("/docs")
    assert page.status_code == 200
    assert "http://" not in page.text.replace("http://127.0.0.1", "")
    assert "https://" not in page.text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/static-offline-docs/{asset}" in page.text
        response = http.get(f"/static-offline-docs/{asset}")
        assert response.status_code == 200
        assert len(response.content) > 10_000
    schema = http.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["apiKey"]["name"] == "Authorization"
