"""A fresh app answers a burst of concurrent first requests: its routes are built up front."""

import threading
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from boxoffice.server.lenient import LenientRoute
from tests.builders.worlds import RESERVED, UNRESERVED, build_catalog
from tests.conftest import Client

THREADS = 24
_CART = "a" * 32  # a well-formed cart id that does not exist


def _requests(client: Client) -> list[tuple[str, str, object, int]]:
    """(method, path, JSON body, expected status) over many routes of both APIs."""
    api = client.base
    return [
        ("POST", f"{api}/cart", None, 201),
        ("GET", f"{api}/event/{RESERVED}", None, 200),
        ("GET", f"{api}/event/{UNRESERVED}", None, 200),
        ("GET", f"{api}/seating/{RESERVED}", None, 200),
        ("GET", f"{api}/event", None, 200),
        ("GET", f"{api}/hall", None, 200),
        ("GET", f"{api}/paymentmethods", None, 200),
        ("GET", f"{api}/export/clienttypes", None, 200),
        ("GET", f"{api}/order", None, 200),
        ("POST", f"{api}/cart/{_CART}", [{"priceId": "FREE", "rankId": 2}], 404),
        ("POST", f"{api}/cart/{_CART}/checkout", {"paymentMethodId": 1}, 404),
        ("GET", f"/v1/{client.name}/events", None, 200),
        ("GET", "/healthz", None, 200),
    ]


def test_a_burst_of_first_requests_on_a_fresh_app_is_answered(
    settings: Settings, engine: Engine, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    build_catalog(engine, client)
    app = create_app(settings, engine=engine)
    # Every handler exists once create_app returns: none is built while requests are served.
    built_late: list[str] = []
    original: Callable[[LenientRoute], object] = LenientRoute.get_route_handler

    def counting(route: LenientRoute) -> object:
        built_late.append(route.path)
        return original(route)

    monkeypatch.setattr(LenientRoute, "get_route_handler", counting)
    requests = _requests(client)
    barrier = threading.Barrier(THREADS)
    answers: list[tuple[str, int, int]] = []
    lock = threading.Lock()

    def first_request(index: int) -> None:
        method, path, body, expected = requests[index % len(requests)]
        # A test client per thread: each runs the app on an event loop of its own, the
        # harshest case for anything built on first use.
        with TestClient(app, base_url="http://127.0.0.1", raise_server_exceptions=False) as http:
            barrier.wait()
            response = http.request(method, path, json=body, headers=client.auth)
        with lock:
            answers.append((f"{method} {path}", response.status_code, expected))

    threads = [threading.Thread(target=first_request, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == THREADS
    assert [a for a in answers if a[1] != a[2]] == []
    assert built_late == []
