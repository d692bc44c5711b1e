"""The shop's pages over HTTP on both databases: programme, event and seat map, cart,
checkout, payment, confirmation; bad input and races answered with a page, never a 500."""

import re

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.builders import PARKET, RESERVED, UNRESERVED, Catalog
from tests.carts.conftest import snapshot
from tests.carts.test_expiry import expire
from tests.conftest import Client
from tests.public_orders.test_buyer_path import decoded_qr_codes
from tests.shop.conftest import TEST_PAY, Shopper, basket, free_seat_ids, mine_count

BUYER = {
    "email": "grace@example.org",
    "firstname": "Grace",
    "lastname": "Hopper",
    "phone": "+31 6 1234-5678",
    "address": "Kerkstraat 1",
    "zip": "1017 GA",
    "city": "Amsterdam",
    "payment_id": str(TEST_PAY),
}


# An instant as the buyer's pages show it, per language; never the fixed ISO form.
ENGLISH_MOMENT = re.compile(
    r"(Mon|Tues|Wednes|Thurs|Fri|Satur|Sun)day \d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d"
)
DUTCH_MOMENT = re.compile(
    r"(maan|dins|woens|donder|vrij|zater|zon)dag \d{1,2} [a-z]+ \d{4}, \d\d:\d\d"
)
ISO_MINUTE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")


def test_the_programme_lists_the_events_on_sale_in_the_browsers_language(
    shopper: Shopper, catalog: Catalog
) -> None:
    dutch = shopper.http.get(shopper.root, headers={"Accept-Language": "nl-NL,nl;q=0.9"})
    assert dutch.status_code == 200
    assert dutch.headers["content-type"].startswith("text/html")
    assert '<html lang="nl">' in dutch.text and "Programma" in dutch.text
    assert "Hamlet" in dutch.text and "Lear" in dutch.text
    assert f'href="{shopper.root}/event/{RESERVED}"' in dutch.text
    assert "2020" not in dutch.text  # the event that is over is not on the programme
    english = shopper.http.get(shopper.root, headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert '<html lang="en">' in english.text and "Programme" in english.text
    # ?lang= wins over the browser and is remembered.
    switched = shopper.get(lang="nl")
    assert '<html lang="nl">' in switched.text
    again = shopper.http.get(shopper.root, headers={"Accept-Language": "en"})
    assert '<html lang="nl">' in again.text
    # Every asset comes from the app itself.
    assert "http" not in re.sub(r'(href|src)="/[^"]*"', "", switched.text).split("<main", 1)[0]
    for asset in ("shop.css", "shop.js", "ticket.svg"):
        served = shopper.get(f"/static/{asset}")
        assert served.status_code == 200, asset
    assert shopper.get("/static/../pages.py").status_code == 404
    assert shopper.get("/static/nothing.css").status_code == 404


def test_unknown_clients_events_and_orders_are_404_pages(
    http: TestClient, shopper: Shopper, catalog: Catalog, other_client: Client
) -> None:
    for path in (
        "/no-such-client/shop",
        "/no-such-client/shop/event/200",
        f"{shopper.root}/event/999999",
        f"{shopper.root}/event/abc",
        f"{shopper.root}/event/{'9' * 19}",
        f"{shopper.root}/order/XgFca-QmBxG-9WhAj-Osszb",
        f"/{other_client.name}/shop/event/{RESERVED}",  # another client's event
    ):
        response = http.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert "<h1>" in response.text, path


def test_the_seat_map_offers_each_free_seat_as_a_labelled_control(
    shopper: Shopper, catalog: Catalog
) -> None:
    page = shopper.get(f"/event/{RESERVED}", lang="en")
    assert page.status_code == 200
    html = page.text
    assert 'role="group" aria-label="Seat map"' in html
    seats = free_seat_ids(html)
    # Hall 1 has 46 seats; three are blocked for this event, the rest are free.
    assert len(seats) == 43
    assert catalog.seat[(PARKET, 1, 1)] not in seats  # blocked (wheelchair)
    assert 'aria-label="Parket, row 3, seat 5, €24.50"' in html
    assert html.count('tabindex="0"') == 1  # one stop in the Tab order; arrows move on
    dutch = shopper.get(f"/event/{RESERVED}", lang="nl").text
    assert 'aria-label="Parket, rij 3, stoel 5, €\xa024,50"' in dutch
    # An unreserved event has quantity pickers only.
    foyer = shopper.get(f"/event/{UNRESERVED}").text
    assert 'role="checkbox"' not in foyer and 'name="qty-FREE"' in foyer


def test_two_seats_chosen_on_the_map_are_held_in_the_cart(
    shopper: Shopper, catalog: Catalog, engine: Engine
) -> None:
    seats = [catalog.seat[(PARKET, 3, 5)], catalog.seat[(PARKET, 3, 6)]]
    held = shopper.post(
        f"/event/{RESERVED}", {"seat": [str(s) for s in seats], "price-1": "RED", "lang": "en"}
    )
    assert held.status_code == 303, held.text
    assert held.headers["location"].endswith(f"/event/{RESERVED}?lang=en&added=2")
    assert shopper.cart_id() is not None
    page = shopper.get(f"/event/{RESERVED}").text
    assert mine_count(page) == 2 and basket(page) == 2
    assert not set(seats) & set(free_seat_ids(page))
    cart = shopper.get("/cart", lang="en")
    assert cart.status_code == 200
    assert "Parket, row 3, seat 5" in cart.text and "Reduced" in cart.text
    assert "€38.00" in cart.text  # 2 x 19.00
    seconds = int(re.search(r'data-seconds="(\d+)"', cart.text).group(1))  # type: ignore[union-attr]
    assert 0 < seconds <= 15 * 60
    # The shop's cart is a public cart: the API reads the same tickets.
    api = shopper.http.get(f"/v1/{shopper.client.name}/cart/{shopper.cart_id()}").json()
    assert len(api) - 1 == 2


def test_a_seat_taken_meanwhile_gives_a_message_and_a_fresh_map_and_nothing_is_held(
    shopper: Shopper, rival: Shopper, catalog: Catalog, engine: Engine
) -> None:
    seat = catalog.seat[(PARKET, 2, 4)]
    both = [str(seat), str(catalog.seat[(PARKET, 2, 5)])]
    assert seat in free_seat_ids(shopper.get(f"/event/{RESERVED}").text)
    assert rival.post(f"/event/{RESERVED}", {"seat": [str(seat)]}).status_code == 303
    before = snapshot(engine, shopper.client.tenant.id)
    late = shopper.post(f"/event/{RESERVED}", {"seat": both, "lang": "en"})
    assert late.status_code == 409
    assert "just taken by someone else" in late.text and 'role="alert"' in late.text
    assert seat not in free_seat_ids(late.text)  # the map shown is the fresh one
    assert snapshot(engine, shopper.client.tenant.id) == before
    assert shopper.cart_id() is None


def test_bad_input_is_a_4xx_page_and_writes_nothing(
    shopper: Shopper, catalog: Catalog, engine: Engine
) -> None:
    other_hall = catalog.seat[(1, 1, 1)]  # a seat of hall 2 (Kleine Zaal)
    before = snapshot(engine, shopper.client.tenant.id)
    for form, status in (
        ({"seat": ["abc"]}, 422),
        ({"seat": ["999999"]}, 422),
        ({"seat": [str(other_hall)]}, 422),
        ({"seat": [str(catalog.seat[(PARKET, 3, 3)])], "price-1": "NOPE"}, 422),
        ({"qty-STD": "0"}, 422),
        ({"qty-STD": "many"}, 422),
        ({"qty-STD": "21"}, 422),
        ({"qty-STD": "11"}, 422),  # more than maxTicketsPerOrder (10)
        ({"qty-NOPE": "1"}, 422),
        ({}, 422),
    ):
        response = shopper.post(f"/event/{RESERVED}", {**form, "lang": "en"})
        assert response.status_code == status, (form, response.text)
        assert response.headers["content-type"].startswith("text/html")
        assert 'role="alert"' in response.text, form
    assert shopper.post("/event/202", {"qty-OLD": "1"}).status_code == 409  # over
    assert shopper.post("/cart/remove", {"item": "x"}).status_code == 422
    assert snapshot(engine, shopper.client.tenant.id) == before


def test_best_available_and_unreserved_quantities(shopper: Shopper, catalog: Catalog) -> None:
    assert shopper.post(f"/event/{RESERVED}", {"qty-STD": "2", "qty-R2": "1"}).status_code == 303
    assert shopper.post(f"/event/{UNRESERVED}", {"qty-FREE": "2"}).status_code == 303
    cart = shopper.get("/cart", lang="en").text
    assert basket(cart) == 5
    assert cart.count("Unreserved, Rang 2 · Vrije plaats") == 2
    # Removing a ticket releases it.
    item = re.search(r'name="item" value="(\d+)"', cart).group(1)  # type: ignore[union-attr]
    assert shopper.post("/cart/remove", {"item": item}).status_code == 303
    assert basket(shopper.get("/cart").text) == 4


def test_the_cart_of_a_frame_comes_from_session_id_and_links_keep_it(
    http: TestClient, catalog: Catalog, client: Client
) -> None:
    cart_id = http.post(f"/v1/{client.name}/cart").json()["cart_id"]
    root = f"/{client.name}/shop"
    page = http.get(f"{root}/event/{UNRESERVED}", params={"session_id": cart_id})
    assert f"session_id={cart_id}" in page.text
    held = http.post(
        f"{root}/event/{UNRESERVED}",
        params={"session_id": cart_id},
        data={"qty-FREE": "3"},
        follow_redirects=False,
    )
    assert held.status_code == 303 and f"session_id={cart_id}" in held.headers["location"]
    assert len(http.get(f"/v1/{client.name}/cart/{cart_id}").json()) - 1 == 3
    checkout = http.get(f"{root}/checkout", params={"session_id": cart_id})
    assert 'target="_top"' in checkout.text  # a payment page is not framed


def test_an_expired_cart_says_so_and_offers_to_start_again(
    shopper: Shopper, catalog: Catalog, engine: Engine
) -> None:
    assert shopper.post(f"/event/{UNRESERVED}", {"qty-FREE": "2"}).status_code == 303
    old = shopper.cart_id()
    assert old is not None
    expire(engine, old)
    cart = shopper.get("/cart", lang="en")
    assert cart.status_code == 200 and "your cart expired" in cart.text
    assert basket(cart.text) == 0
    refused = shopper.post(f"/event/{UNRESERVED}", {"qty-FREE": "1", "lang": "en"})
    assert refused.status_code == 410 and "Start again" in refused.text
    again = shopper.post("/cart/restart", {})
    assert again.status_code == 303
    assert shopper.cart_id() not in (None, old)
    assert shopper.post(f"/event/{UNRESERVED}", {"qty-FREE": "1"}).status_code == 303
    assert basket(shopper.get("/cart").text) == 1


def test_checkout_refuses_bad_details_with_a_message_per_field_and_writes_nothing(
    shopper: Shopper, catalog: Catalog, engine: Engine
) -> None:
    assert shopper.get("/checkout").status_code == 303  # an empty cart: to the cart page
    assert shopper.post(f"/event/{UNRESERVED}", {"qty-FREE": "1"}).status_code == 303
    form = shopper.get("/checkout", lang="en").text
    assert 'name="payment_id"' in form and "Testbetaling" in form
    assert "Elsewhere" not in form  # a provider this server does not have
    before = snapshot(engine, shopper.client.tenant.id)
    refused = shopper.post("/checkout", {**BUYER, "email": "nope", "lastname": "", "lang": "en"})
    assert refused.status_code == 422
    assert 'id="e-email"' in refused.text and 'id="e-lastname"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert 'value="Grace"' in refused.text  # what was typed is kept
    wrong_method = shopper.post("/checkout", {**BUYER, "payment_id": "5"})
    assert wrong_method.status_code == 422
    assert snapshot(engine, shopper.client.tenant.id) == before


def test_a_buyer_pays_with_the_test_provider_and_gets_tickets(
    shopper: Shopper, catalog: Catalog, engine: Engine
) -> None:
    seats = [str(catalog.seat[(PARKET, 4, 4)]), str(catalog.seat[(PARKET, 4, 5)])]
    assert shopper.post(f"/event/{RESERVED}", {"seat": seats, "price-2": "R2"}).status_code == 303
    placed = shopper.post("/checkout", {**BUYER, "lang": "en"})
    assert placed.status_code == 303, placed.text
    pay_url = placed.headers["location"]
    assert f"/v1/{shopper.client.name}/pay/test/" in pay_url
    assert shopper.cart_id() is None  # the cart is an order now
    assert pay_url.endswith("?lang=en")  # the payment page speaks the shop's language
    paying = shopper.http.get(pay_url)
    assert paying.status_code == 200 and "Pay for your order" in paying.text
    assert ENGLISH_MOMENT.search(paying.text) and not ISO_MINUTE.search(paying.text)
    paid = shopper.http.post(pay_url, data={"action": "pay"}, follow_redirects=False)
    assert paid.status_code == 303
    back = paid.headers["location"]
    assert back.startswith(f"http://127.0.0.1{shopper.root}/order?lang=en&return=")
    to_order = shopper.http.get(back, follow_redirects=False)
    assert to_order.status_code == 303
    order_url = to_order.headers["location"]
    page = shopper.http.get(order_url)
    assert page.status_code == 200 and "Your order is paid" in page.text
    assert ENGLISH_MOMENT.search(page.text) and not ISO_MINUTE.search(page.text)
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "grace@example.org" not in page.text.lower()
    tickets = re.search(r'href="([^"]+/tickets)"', page.text).group(1)  # type: ignore[union-attr]
    pdf = shopper.http.get(tickets)
    assert pdf.headers["content-type"] == "application/pdf"
    codes = decoded_qr_codes(pdf.content)
    assert len(codes) == 2 and all(len(c) == 1 for c in codes)


def test_an_unpaid_order_page_offers_to_pay(shopper: Shopper, catalog: Catalog) -> None:
    assert shopper.post(f"/event/{UNRESERVED}", {"qty-FREE": "1"}).status_code == 303
    pay_url = shopper.post("/checkout", BUYER).headers["location"]
    key = pay_url.rsplit("/", 1)[1]
    page = shopper.get(f"/order/{key}", lang="nl")
    assert page.status_code == 200 and "wacht op betaling" in page.text
    assert pay_url in page.text
    assert DUTCH_MOMENT.search(page.text) and not ISO_MINUTE.search(page.text)
    paying = shopper.http.get(pay_url)
    assert "Betaal je bestelling" in paying.text and 'lang="nl"' in paying.text
    assert DUTCH_MOMENT.search(paying.text) and not ISO_MINUTE.search(paying.text)
    browser = {"accept-language": "en-GB,en;q=0.9"}
    english = shopper.http.get(pay_url.partition("?")[0], headers=browser)
    assert "Pay for your order" in english.text and 'lang="en"' in english.text
    cancel = {"action": "cancel", "lang": "nl"}
    assert shopper.http.post(pay_url, data=cancel, follow_redirects=False).status_code == 303
    assert "Betaling geannuleerd" in shopper.http.get(pay_url).text
    assert shopper.get("/order", **{"return": ""}).status_code == 422
