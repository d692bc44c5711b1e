"""Fixtures of the shop's server-side tests: the standard catalog with the test payment
provider, and a buyer who walks the shop's pages over the real app (cookies kept)."""

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Client
from tests.public_orders.conftest import TEST_PAY, catalog

__all__ = ["TEST_PAY", "Shopper", "catalog"]
# TestClient answers with httpx2's Response when httpx2 is installed, else httpx's.
Reply = Any


@dataclass
class Shopper:
    """One browser: the shop of one client, with its own cookies."""

    http: TestClient
    client: Client

    @property
    def root(self) -> str:
        return f"/{self.client.name}/shop"

    def get(self, path: str = "", **params: str) -> Reply:
        return self.http.get(self.root + path, params=params, follow_redirects=False)

    def post(self, path: str, data: Any, **params: str) -> Reply:
        return self.http.post(self.root + path, data=data, params=params, follow_redirects=False)

    def cart_id(self) -> str | None:
        value = self.http.cookies.get("boxoffice_cart")
        return str(value) if value else None


@pytest.fixture
def shopper(app: Any, client: Client) -> Any:
    with TestClient(app, base_url="http://127.0.0.1") as http:
        yield Shopper(http=http, client=client)


@pytest.fixture
def rival(app: Any, client: Client) -> Any:
    """A second buyer of the same shop, with cookies of their own."""
    with TestClient(app, base_url="http://127.0.0.1") as http:
        yield Shopper(http=http, client=client)


def free_seat_ids(html: str) -> list[int]:
    """The seats the map offers (role=checkbox), in map order."""
    return [int(s) for s in re.findall(r'role="checkbox"[^>]*data-seat="(\d+)"', html)]


def mine_count(html: str) -> int:
    return len(re.findall(r'class="seat mine"', html))


def basket(html: str) -> int:
    found = re.search(r'data-basket-count="(\d+)"', html)
    assert found is not None
    return int(found.group(1))
