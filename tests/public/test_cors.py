"""CORS: every public answer may be read by a browser on any site; the Peppered API gets none."""

from fastapi.testclient import TestClient

from tests.conftest import Client
from tests.public.conftest import ON_SALE, public

SITE = "https://www.venue.example"


def test_every_public_answer_allows_any_origin(http: TestClient, venue: Client) -> None:
    for path in (
        "/events",
        f"/events/{ON_SALE}",
        f"/tickettypes/{ON_SALE}",
        "/locations",
        "/eventtypes",
        "/paymentmethods",
        "/events/999",  # a 404
        "/nothing-here",  # an unknown path
    ):
        for headers in ({}, {"Origin": SITE}):
            response = http.get(f"{public(venue)}{path}", headers=headers)
            assert response.headers["access-control-allow-origin"] == "*", (path, headers)
    unknown_client = http.get("/v1/nobody-here/events", headers={"Origin": SITE})
    assert unknown_client.status_code == 404
    assert unknown_client.headers["access-control-allow-origin"] == "*"


def test_preflight_is_answered_for_any_site_method_and_header(
    http: TestClient, venue: Client
) -> None:
    for method in ("GET", "POST", "DELETE"):
        response = http.options(
            f"{public(venue)}/events",
            headers={
                "Origin": SITE,
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "content-type, x-requested-with",
            },
        )
        assert response.status_code == 200, response.text
        assert response.headers["access-control-allow-origin"] == "*"
        assert method in response.headers["access-control-allow-methods"]
        allowed = response.headers["access-control-allow-headers"].lower()
        assert "content-type" in allowed and "x-requested-with" in allowed
        assert int(response.headers["access-control-max-age"]) > 0


def test_the_peppered_api_sends_no_cors_headers(http: TestClient, venue: Client) -> None:
    response = http.get(f"{venue.base}/event", headers={**venue.auth, "Origin": SITE})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
    preflight = http.options(
        f"{venue.base}/event",
        headers={"Origin": SITE, "Access-Control-Request-Method": "GET"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    assert preflight.status_code == 401
