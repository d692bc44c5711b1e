"""Payments: cancelling releases, an unpaid reservation expires, tickets and receipts
answer only to the right key of a paid order, and the invoice provider."""

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.payments.tables import order_payments
from tests.builders import RESERVED, UNRESERVED, Catalog
from tests.carts.conftest import Shop, claims_of
from tests.conftest import Client
from tests.public_orders.conftest import (
    OFFLINE,
    REDIRECT,
    UNKNOWN_PROVIDER,
    Buyer,
    returned_key,
    run_out,
)

TWO_STANDARD = {"event_id": RESERVED, "numberoftickets": 2, "discount_id": "STD"}


def free_places(http: TestClient, client: Client, event_id: int) -> dict[int, int]:
    body = http.get(f"{client.base}/event/{event_id}", headers=client.auth).json()
    return {a["rankId"]: a["available"] for a in body["availability"]}


def order_of(engine: Engine, order_key: str) -> dict[str, object]:
    with engine.connect() as conn:
        row = conn.execute(select(orders).where(orders.c.order_key == order_key)).mappings().one()
        payment = conn.execute(
            select(order_payments.c.state).where(order_payments.c.order_id == row["id"])
        ).scalar_one()
        return {**dict(row), "payment": payment}


def test_cancelling_on_the_payment_page_releases_the_places(
    http: TestClient, buyer: Buyer, client: Client, engine: Engine, catalog: Catalog
) -> None:
    before = free_places(http, client, RESERVED)
    url, key = buyer.place([TWO_STANDARD])
    assert free_places(http, client, RESERVED)[1] == before[1] - 2
    cancelled = buyer.answer(url, "cancel")
    assert cancelled.status_code == 303
    assert returned_key(cancelled.headers["location"]) == key
    assert free_places(http, client, RESERVED) == before
    row = order_of(engine, key)
    assert (row["status"], row["payment_status"], row["payment"]) == ("cancel", "none", "cancelled")
    assert buyer.order(key).json()["order_payment_status"] == "none"
    # Closed: paying afterwards is refused, and no tickets.
    assert buyer.answer(url, "pay").status_code == 409
    assert http.get(f"{buyer.base}/order/{key}/tickets").status_code == 409
    assert http.get(url).status_code == 200  # the page says it was cancelled
    # The page speaks the buyer's language: `?lang=`, else the browser's, else Dutch.
    assert "Payment cancelled" in http.get(url, params={"lang": "en"}).text
    assert "Betaling geannuleerd" in http.get(url).text


def test_an_unpaid_reservation_frees_its_places_the_moment_it_expires(
    http: TestClient, buyer: Buyer, client: Client, engine: Engine, catalog: Catalog
) -> None:
    before = free_places(http, client, RESERVED)
    url, key = buyer.place([TWO_STANDARD])
    changed = order_of(engine, key)["last_changed_at"]
    run_out(engine, client.tenant.id, key)
    # Invisible at once, before anything sweeps it.
    assert free_places(http, client, RESERVED) == before
    assert order_of(engine, key)["status"] == "res"
    # Another buyer may take exactly those seats now (through the Peppered cart).
    with engine.connect() as conn:
        seats = (
            conn.execute(
                select(order_seats.c.hall_seat_id)
                .join(orders, orders.c.id == order_seats.c.order_id)
                .where(orders.c.order_key == key)
            )
            .scalars()
            .all()
        )
    shop = Shop(http=http, client=client)
    other = shop.new_cart()
    taken = shop.add(other, [{"priceId": "RED", "rankId": 1, "seatId": s} for s in seats])
    assert taken.status_code == 200, taken.text
    # A public write sweeps the expired reservation: cancelled, lastChanged moved.
    assert buyer.add(buyer.new_cart(), {"event_id": UNRESERVED}).status_code == 200
    row = order_of(engine, key)
    assert (row["status"], row["payment"]) == ("cancel", "expired")
    assert row["time_out_at"] is None
    assert row["last_changed_at"] > changed  # type: ignore[operator]
    # Paying too late is refused.
    assert buyer.answer(url, "pay").status_code == 410
    assert http.get(f"{buyer.base}/order/{key}/tickets").status_code == 409


def test_paying_after_the_expiry_is_a_410_and_releases(
    http: TestClient, buyer: Buyer, client: Client, engine: Engine, catalog: Catalog
) -> None:
    before = free_places(http, client, RESERVED)
    url, key = buyer.place([TWO_STANDARD])
    run_out(engine, client.tenant.id, key)
    late = buyer.answer(url, "pay")
    assert late.status_code == 410
    assert "Betaling verlopen" in late.text  # no language asked: Dutch
    row = order_of(engine, key)
    assert (row["status"], row["payment_status"], row["payment"]) == ("cancel", "none", "expired")
    assert free_places(http, client, RESERVED) == before
    assert [c for c in claims_of(engine, client.tenant.id) if c["order_seat_id"]] == []


def test_tickets_and_receipt_answer_only_to_the_key_of_a_paid_order(
    http: TestClient, buyer: Buyer, catalog: Catalog
) -> None:
    url, key = buyer.place([{"event_id": UNRESERVED, "numberoftickets": 2}])
    for what in ("tickets", "receipt"):
        refused = http.get(f"{buyer.base}/order/{key}/{what}")
        assert refused.status_code == 409
        assert "not paid" in refused.json()["message"]
    assert buyer.answer(url, "pay").status_code == 303
    wrong = key[:-1] + ("a" if key[-1] != "a" else "b")
    for path in (f"/order/{wrong}", f"/order/{wrong}/tickets", f"/order/{wrong}/receipt"):
        assert http.get(buyer.base + path).status_code == 404
    assert http.get(f"{buyer.base}/pay/test/{wrong}").status_code == 404
    assert http.get(f"{buyer.base}/order/{'x' * 500}").status_code in (404, 422)
    assert http.get(f"{buyer.base}/order/{key}/tickets").status_code == 200
    assert http.get(f"{buyer.base}/order/{key}/receipt").status_code == 200


def test_another_clients_cart_and_order_are_not_found(
    http: TestClient,
    buyer: Buyer,
    other_client: Client,
    catalog: Catalog,
) -> None:
    url, key = buyer.place([{"event_id": UNRESERVED}])
    cart_id = buyer.new_cart()
    assert buyer.add(cart_id, {"event_id": UNRESERVED}).status_code == 200
    seat_id = buyer.cart(cart_id).json()[0]["seat_id"]
    other = f"/v1/{other_client.name}"
    for method, path in (
        ("GET", f"/cart/{cart_id}"),
        ("POST", f"/cart/{cart_id}"),
        ("DELETE", f"/cart/{cart_id}/{seat_id}"),
        ("GET", f"/order/{key}"),
        ("GET", f"/order/{key}/tickets"),
        ("GET", f"/order/{key}/receipt"),
        ("GET", f"/pay/test/{key}"),
        ("POST", f"/pay/test/{key}"),
    ):
        if method == "POST" and path.startswith("/cart"):
            response = http.post(other + path, json={"event_id": UNRESERVED})
        elif method == "POST":
            response = http.post(other + path, data={"action": "pay"})
        else:
            response = http.request(method, other + path)
        assert response.status_code == 404, (method, path, response.text)
    placed = http.post(
        f"{other}/order/create",
        json={
            "cart_id": cart_id,
            "payment_id": 3,
            "redirectURL": REDIRECT,
            "email": "a@example.org",
            "lastname": "A",
        },
    )
    assert placed.status_code == 404, placed.text
    # Untouched: the order is still payable by its own client.
    assert buyer.answer(url, "pay").status_code == 303


def test_payment_methods_that_cannot_take_the_order_are_refused(
    buyer: Buyer, engine: Engine, client: Client, catalog: Catalog
) -> None:
    cart_id = buyer.new_cart()
    assert buyer.add(cart_id, {"event_id": UNRESERVED}).status_code == 200
    for payment_id, problem in (
        (OFFLINE, "not offered online"),
        (UNKNOWN_PROVIDER, "mollie"),
        (99, "does not exist"),
    ):
        refused = buyer.create_order(cart_id, payment_id=payment_id)
        assert refused.status_code == 422, refused.text
        assert problem in refused.json()["errors"]["payment_id"][0]
    with engine.connect() as conn:
        assert (
            conn.execute(select(orders).where(orders.c.tenant_id == client.tenant.id)).all() == []
        )


def test_the_invoice_provider_places_an_unpaid_order_and_sends_the_buyer_back(
    http: TestClient, buyer: Buyer, client: Client, engine: Engine, catalog: Catalog
) -> None:
    url, key = buyer.place([{"event_id": UNRESERVED}], payment_id=2)
    assert returned_key(url) == key
    row = order_of(engine, key)
    assert (row["status"], row["payment_status"], row["time_out_at"]) == ("ord", "none", None)
    assert http.get(f"{buyer.base}/pay/test/{key}").status_code == 404
    assert http.get(f"{buyer.base}/order/{key}/tickets").status_code == 409
    # The venue marks it paid when the money arrives: tickets from then on.
    marked = http.put(
        f"{client.base}/order/{row['id']}",
        json={"orderPaymentStatus": "paid"},
        headers=client.auth,
    )
    assert marked.status_code == 200, marked.text
    assert http.get(f"{buyer.base}/order/{key}/tickets").status_code == 200


def test_an_existing_customer_is_linked_and_left_unchanged(
    http: TestClient, buyer: Buyer, client: Client, engine: Engine, catalog: Catalog
) -> None:
    created = http.post(
        f"{client.base}/customer",
        json={"email": "grace@example.org", "customerLastName": "Original"},
        headers=client.auth,
    ).json()
    _url, key = buyer.place([{"event_id": UNRESERVED}], lastname="Impostor")
    assert order_of(engine, key)["customer_id"] == created["customerId"]
    again = http.get(f"{client.base}/customer/{created['customerId']}", headers=client.auth)
    assert again.json()["customerLastName"] == "Original"
