"""No public answer carries personal data or sales figures: a walk over every public route."""

import re
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from boxoffice.server.app import API_PREFIX
from boxoffice.server.public.paths import PUBLIC_PREFIX
from tests.conftest import Client
from tests.public.conftest import (
    HALL,
    HAMLET,
    MAX_TICKETS,
    ON_SALE,
    OUTDOOR,
    SUB_EVENTS,
    VIEW_END,
    public,
)

# Values of the path parameters of public GET routes; a new route with another parameter
# must add its values here, so that it is walked too.
PATH_VALUES: dict[str, list[str]] = {
    "event_id": [str(HAMLET), *(str(e) for e in SUB_EVENTS), "999"],
    "location_id": [str(HALL), "999"],
    "name": ["toneel", "festival", "familie", "nothing"],
    # Unknown ones; the walk adds the planted buyer's public cart, tickets and order.
    "cart_id": ["x" * 32],
    "seat_id": ["999"],
    "order_key": ["AAAAA-BBBBB-CCCCC-DDDDD"],
    "provider": ["test", "invoice"],
}
# The buyer's own order, behind its key (GET /order/{order_key}): fields of the contract.
_OWN_ORDER_KEYS = {
    "order_payment_status",
    "order_tickets_nr",
    "order_tickets_url",
    "order_receipt_url",
}

SECRET = {
    "first": "Zyxwvuta",
    "last": "Qwertyson-Privé",
    "email": "zyx.secret.buyer@example.org",
    "phone": "0687654321",
    "street": "Geheimstraat",
    "city": "Verborgenburg",
    "zip": "9999 ZZ",
}
# Field names that would carry sales figures or people.
_FORBIDDEN_KEYS = re.compile(r"sold|revenue|capacity|available|customer|email|order|amount")


def public_get_routes(app: FastAPI) -> list[str]:
    """Every public GET operation, from the OpenAPI document (it lists every route served)."""
    return [
        path
        for path, item in app.openapi()["paths"].items()
        if path.startswith(PUBLIC_PREFIX + "/")
        and not path.startswith(API_PREFIX + "/")
        and "get" in item
    ]


def concrete_paths(
    template: str, client: Client, planted: dict[str, list[str]] | None = None
) -> list[str]:
    paths = [template.replace("{client_name}", client.name)]
    for name in re.findall(r"\{([^}]+)\}", template):
        if name == "client_name":
            continue
        assert name in PATH_VALUES, f"add values for {{{name}}} of {template} to PATH_VALUES"
        values = PATH_VALUES[name] + (planted or {}).get(name, [])
        paths = [p.replace(f"{{{name}}}", value) for p in paths for value in values]
    return paths


def keys_of(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in keys_of(v)}
    if isinstance(value, list):
        return {k for item in value for k in keys_of(item)}
    return set()


def sub_events(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        found = [value] if "event_free" in value else []
        return found + [s for v in value.values() for s in sub_events(v)]
    if isinstance(value, list):
        return [s for item in value for s in sub_events(item)]
    return []


def plant_buyer(http: TestClient, client: Client) -> str:
    """A customer with distinctive personal data and a paid order of three seats."""
    customer = http.post(
        f"{client.base}/customer",
        headers=client.auth,
        json={
            "email": SECRET["email"],
            "customerFirstName": SECRET["first"],
            "customerLastName": SECRET["last"],
            "customerAddress": SECRET["street"],
            "customerHouseNr": "13",
            "customerZip": SECRET["zip"],
            "customerCity": SECRET["city"],
            "customerPhone": SECRET["phone"],
        },
    )
    assert customer.status_code == 201, customer.text
    orders = []
    for items in (
        [{"priceId": f"R1-{ON_SALE}", "rankId": 1, "numberOfTickets": 3}],
        [{"priceId": "PARK", "rankId": 3, "numberOfTickets": 1}],
    ):
        cart = http.post(f"{client.base}/cart", headers=client.auth).json()["cartId"]
        assert http.post(f"{client.base}/cart/{cart}", json=items, headers=client.auth).is_success
        order = http.post(
            f"{client.base}/cart/{cart}/checkout",
            json={"customerId": customer.json()["customerId"], "paymentMethodId": 1},
            headers=client.auth,
        )
        assert order.status_code == 201, order.text
        orders.append(order.json())
    return str(orders[0]["orderKey"])


def plant_public_buyer(http: TestClient, client: Client) -> dict[str, list[str]]:
    """The same person buying through the public API: a cart, and an order (unpaid)."""
    base = public(client)
    method = http.get(f"{base}/paymentmethods").json()[0]["payment_id"]

    def cart() -> tuple[str, list[str]]:
        cart_id = http.post(f"{base}/cart").json()["cart_id"]
        line = {"event_id": VIEW_END, "numberoftickets": 2, "discount_id": f"R1-{VIEW_END}"}
        held = http.post(f"{base}/cart/{cart_id}", json=line)
        assert held.status_code == 200, held.text
        return cart_id, [t["seat_id"] for t in held.json()[:-1]]

    cart_id, seat_ids = cart()
    order_cart, _ = cart()
    placed = http.post(
        f"{base}/order/create",
        json={
            "cart_id": order_cart,
            "payment_id": method,
            "redirectURL": "https://venue.example/thanks",
            "email": SECRET["email"],
            "firstname": SECRET["first"],
            "lastname": SECRET["last"],
            "phone": SECRET["phone"],
            "address": SECRET["street"],
            "city": SECRET["city"],
            "zip": SECRET["zip"],
        },
    )
    assert placed.status_code == 200, placed.text
    return {"cart_id": [cart_id], "seat_id": seat_ids, "order_key": [placed.json()[0]["order_key"]]}


def test_no_public_answer_has_personal_data_or_sales_figures(
    app: FastAPI, http: TestClient, venue: Client
) -> None:
    order_key = plant_buyer(http, venue)
    planted = plant_public_buyer(http, venue)
    routes = public_get_routes(app)
    assert f"{PUBLIC_PREFIX}/events" in routes and f"{PUBLIC_PREFIX}/tickettypes/{{event_id}}" in (
        routes
    )
    seen_subs = 0
    for template in routes:
        for path in concrete_paths(template, venue, planted):
            response = http.get(path)
            # 409: the planted public order's tickets and receipt, not paid.
            assert response.status_code in (200, 404, 409), (path, response.text)
            text = response.text
            for secret in SECRET.values():
                assert secret not in text, (path, secret)
            assert order_key not in text, path
            if not response.headers["content-type"].startswith("application/json"):
                continue  # the test provider's payment page (HTML)
            body = response.json()
            forbidden = {k for k in keys_of(body) if _FORBIDDEN_KEYS.search(k)}
            assert not forbidden - _OWN_ORDER_KEYS, path
            for sub in sub_events(body):
                seen_subs += 1
                assert (
                    0 <= sub["event_free"] <= (MAX_TICKETS if sub["event_id"] == ON_SALE else 10)
                ), (path, sub)
    assert seen_subs > 20
    # The censored figure is what one order may take, not what is left: 7 seats are left.
    on_sale = http.get(f"{public(venue)}/events/{ON_SALE}").json()[0]["sub_events"][0]
    assert on_sale["event_free"] == MAX_TICKETS
    outdoor = http.get(f"{public(venue)}/events/{OUTDOOR}").json()[0]["sub_events"][0]
    assert outdoor["event_free"] == 2
