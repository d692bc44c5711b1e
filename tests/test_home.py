"""GET /: a person who opens the server in a browser finds the way to the API documentation."""

import re

from fastapi.testclient import TestClient


def test_the_root_is_a_page_that_links_to_the_docs_and_needs_no_key(http: TestClient) -> None:
    response = http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = re.findall(r'href="([^"]+)"', response.text)
    assert "/docs" in links and "/openapi.json" in links
    # Every link on the page works without a key.
    for link in links:
        assert http.get(link).status_code == 200, link
    assert http.head("/").status_code == 200


def test_the_root_stays_out_of_the_api_document(http: TestClient) -> None:
    assert "/" not in http.get("/openapi.json").json()["paths"]
