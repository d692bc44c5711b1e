"""The whole buyer's path over HTTP, as a venue's website and its buyer walk it:
events -> ticket types -> cart -> order/create -> payment page -> pay -> back to the site
-> GET /order/{order_key} -> the tickets PDF, whose QR codes a real decoder reads; and the
paid order in the Peppered export with its seats and customer."""

import io

import pypdfium2
import zxingcpp
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from boxoffice.server.orders.tables import order_seats, orders
from boxoffice.server.tickets.tables import ticket_secrets
from tests.builders import RESERVED, UNRESERVED, Catalog
from tests.conftest import Client
from tests.public_orders.conftest import Buyer, returned_key


def decoded_qr_codes(pdf: bytes) -> list[list[str]]:
    """The texts of the QR codes on each page, read from the rendered page images."""
    pages: list[list[str]] = []
    document = pypdfium2.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            page = document[index]
            image = page.render(scale=3).to_pil()
            found = zxingcpp.read_barcodes(image)
            pages.append([r.text for r in found if r.format == zxingcpp.BarcodeFormat.QRCode])
            page.close()
    finally:
        document.close()
    return pages


def order_row(engine: Engine, order_key: str) -> dict[str, object]:
    with engine.connect() as conn:
        row = conn.execute(select(orders).where(orders.c.order_key == order_key)).mappings().one()
        return dict(row)


def secrets_of(engine: Engine, order_id: int) -> dict[int, str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(ticket_secrets.c.order_seat_id, ticket_secrets.c.secret)
            .join(order_seats, order_seats.c.id == ticket_secrets.c.order_seat_id)
            .where(order_seats.c.order_id == order_id)
            .order_by(order_seats.c.id)
        )
        return {int(seat_id): secret for seat_id, secret in rows}


def test_a_buyer_finds_an_event_pays_and_gets_tickets_whose_qr_codes_decode(
    http: TestClient, buyer: Buyer, client: Client, engine: Engine, catalog: Catalog
) -> None:
    # The programme and the ticket types, as the WordPress plugins read them.
    events = http.get(f"{buyer.base}/events")
    assert events.status_code == 200, events.text
    sub_events = [s for main in events.json() for s in main["sub_events"]]
    hamlet = next(s for s in sub_events if s["event_id"] == RESERVED)
    assert hamlet["event_status"] == "pub" and hamlet["event_free"] > 0
    types = http.get(f"{buyer.base}/tickettypes/{RESERVED}").json()
    standard = next(t for t in types if t["discount_name"] == "Standard")

    # Two reserved seats and one unreserved place, in one cart.
    cart_id = buyer.new_cart()
    held = buyer.add(
        cart_id,
        {"event_id": str(RESERVED), "numberoftickets": "2", "discount_id": standard["discount_id"]},
    )
    assert held.status_code == 200, held.text
    held = buyer.add(cart_id, {"event_id": UNRESERVED, "numberoftickets": 1})
    assert held.status_code == 200, held.text
    cart = buyer.cart(cart_id).json()
    assert len(cart) - 1 == 3  # the official plugin's basket counter
    assert cart[-1] == {"totalprice": "64.00"}

    # The order: the buyer is sent to the payment page.
    created = buyer.create_order(cart_id)
    assert created.status_code == 200, created.text
    [answer] = created.json()
    assert set(answer) == {"url", "order_key"}
    key = answer["order_key"]
    reserved = order_row(engine, key)
    assert (reserved["status"], reserved["payment_status"]) == ("res", "none")
    assert reserved["amount_cents"] == 6400 + 50

    page = http.get(answer["url"])
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert 'value="pay"' in page.text and 'value="cancel"' in page.text
    assert "Grace" not in page.text and "Hopper" not in page.text
    assert "http" not in page.text.replace(answer["url"], "")  # no external assets
    # Tickets are not there before the payment.
    assert http.get(f"{buyer.base}/order/{key}/tickets").status_code == 409
    assert buyer.order(key).json()["order_payment_status"] == "none"

    paid = buyer.answer(answer["url"], "pay")
    assert paid.status_code == 303, paid.text
    assert returned_key(paid.headers["location"]) == key

    # Back on the site: the order by its key.
    order = buyer.order(key)
    assert order.status_code == 200, order.text
    body = order.json()
    assert list(body) == [
        "order_payment_status",
        "order_tickets_nr",
        "order_tickets_url",
        "order_receipt_url",
        "seats",
    ]
    assert body["order_payment_status"] == "paid"
    assert body["order_tickets_nr"] == 3
    assert [s["event_name"] for s in body["seats"]] == ["Hamlet", "Hamlet", "Hamlet (foyer)"]
    assert all(isinstance(s["seat_id"], str) for s in body["seats"])
    assert body["seats"][0]["event_type"] == ["theatre"]

    # The PDF: one ticket a page, each QR code that ticket's own secret.
    pdf = http.get(body["order_tickets_url"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    order_id = int(reserved["id"])  # type: ignore[call-overload]
    secrets = secrets_of(engine, order_id)
    assert len(secrets) == 3 and len(set(secrets.values())) == 3
    assert decoded_qr_codes(pdf.content) == [[s] for s in secrets.values()]
    assert [s["seat_id"] for s in body["seats"]] == [str(i) for i in secrets]

    receipt = http.get(body["order_receipt_url"])
    assert receipt.status_code == 200
    assert "64" in receipt.text and key in receipt.text and "Hamlet" in receipt.text
    assert "Grace" not in receipt.text

    # The Peppered export shows the paid order with its seats and its customer.
    export = http.post(f"{client.base}/export/orders", headers=client.auth)
    assert export.status_code == 200, export.text
    [exported] = [o for o in export.json() if o["orderKey"] == key]
    assert exported["orderStatus"] == "ord"
    assert exported["orderPaymentStatus"] == "paid"
    assert exported["orderChannel"] == "www"
    assert exported["timeOut"] is None
    assert exported["handlingTextPayment"] == "Testbetaling"
    assert [s["seatId"] for s in exported["seats"]] == list(secrets)
    assert [s["eventId"] for s in exported["seats"]] == [RESERVED, RESERVED, UNRESERVED]
    assert all(s["rowNr"] is not None for s in exported["seats"][:2])
    assert exported["user"]["email"] == "Grace@Example.org"
    assert exported["user"]["customerPhone"] == "0031612345678"
    paid_row = order_row(engine, key)
    assert paid_row["last_changed_at"] > reserved["last_changed_at"]  # type: ignore[operator]


def test_the_pdf_names_event_date_hall_place_and_price(
    http: TestClient, buyer: Buyer, catalog: Catalog
) -> None:
    url, key = buyer.place(
        [
            {"event_id": RESERVED, "numberoftickets": 1, "discount_id": "RED"},
            {"event_id": UNRESERVED},
        ]
    )
    assert buyer.answer(url, "pay").status_code == 303
    pdf = http.get(f"{buyer.base}/order/{key}/tickets").content
    document = pypdfium2.PdfDocument(io.BytesIO(pdf))
    try:
        texts = [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()
    assert len(texts) == 2
    assert "Hamlet" in texts[0] and "2030-04-01 20:30" in texts[0] and "Zaal 1" in texts[0]
    assert "Parket, row" in texts[0] and "Reduced: EUR 19.00" in texts[0]
    assert "Unreserved, Rang 2" in texts[1] and "2030-04-02 20:30" in texts[1]
    assert key in texts[0]
