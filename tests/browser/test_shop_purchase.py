"""A buyer in Chromium: two adjacent seats with the mouse, two unreserved tickets with the
keyboard only; paid with the `test` provider; the PDF's QR codes decode; the order is in
the Peppered orders export with its customer."""

import httpx
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from tests.browser.conftest import Shop
from tests.browser.shop_steps import (
    choose_payment_by_keyboard,
    fill_details,
    fill_details_by_keyboard,
    follow_link_by_keyboard,
    screenshot,
    submit_by_keyboard,
    type_into,
)
from tests.builders import PARKET, RESERVED, SHOP_TEST_PAY, UNRESERVED
from tests.public_orders.test_buyer_path import decoded_qr_codes, order_row, secrets_of


def exported_order(shop: Shop, order_key: str) -> dict[str, object]:
    response = httpx.post(
        shop.server.url(f"/v1/{shop.name}/peppered/export/orders"),
        headers={"Authorization": shop.client.key},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    [found] = [o for o in response.json() if o["orderKey"] == order_key]
    return dict(found)


def paid_tickets(page: Page, shop: Shop, engine: Engine) -> str:
    """On the confirmation page: the order is paid, its PDF downloads and its QR codes are
    the tickets' secrets; returns the order key."""
    expect(page.locator("h1")).to_contain_text("Thank you for your order")
    order_key = page.locator(".order-key").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download your tickets (PDF)").focus()
        page.keyboard.press("Enter")
    pdf = download.value.path().read_bytes()
    secrets = secrets_of(engine, int(order_row(engine, order_key)["id"]))  # type: ignore[call-overload]
    assert decoded_qr_codes(pdf) == [[secret] for secret in secrets.values()]
    assert len(secrets) == 2
    return order_key


def test_two_adjacent_seats_chosen_with_the_mouse_are_paid_and_exported(
    page: Page, shop: Shop, engine: Engine
) -> None:
    page.set_viewport_size({"width": 1100, "height": 900})
    page.goto(shop.url("/shop/?lang=en"))
    screenshot(page, "1-programme")
    page.locator(f'a[href*="/shop/event/{RESERVED}"]').click()
    expect(page.locator("h1")).to_have_text("Hamlet")
    screenshot(page, "2-event-seat-map")

    seats = [shop.catalog.seat[(PARKET, 3, 5)], shop.catalog.seat[(PARKET, 3, 6)]]
    for seat in seats:
        page.locator(f'[data-seat="{seat}"]').click()
        expect(page.locator(f'[data-seat="{seat}"]')).to_have_attribute("aria-checked", "true")
    expect(page.locator("#chosen-summary")).to_contain_text("2 seats chosen")
    screenshot(page, "3-seats-chosen")
    page.get_by_role("button", name="Add the chosen seats to the cart").click()
    expect(page.locator(".notice")).to_contain_text("2 tickets added")
    expect(page.locator(".seat.mine")).to_have_count(2)

    page.get_by_role("link", name="Go to the cart").click()
    expect(page.locator("tbody tr")).to_have_count(2)
    expect(page.locator(".countdown")).to_be_visible()
    screenshot(page, "4-cart")
    page.get_by_role("link", name="Check out").click()
    fill_details(page)
    page.locator(f'input[name="payment_id"][value="{SHOP_TEST_PAY}"]').check()
    screenshot(page, "5-checkout")
    page.get_by_role("button", name="Order and pay").click()

    expect(page.locator("h1")).to_have_text("Pay for your order")
    screenshot(page, "6-payment")
    page.get_by_role("button", name="Pay €").click()
    screenshot(page, "7-confirmation")
    order_key = paid_tickets(page, shop, engine)

    exported = exported_order(shop, order_key)
    assert exported["orderPaymentStatus"] == "paid" and exported["orderChannel"] == "www"
    assert exported["user"]["email"] == "grace@example.org"  # type: ignore[index]
    assert exported["user"]["customerLastName"] == "Hopper"  # type: ignore[index]
    seat_numbers = sorted(s["seatNr"] for s in exported["seats"])  # type: ignore[attr-defined]
    assert seat_numbers == [5, 6]


def test_two_unreserved_tickets_bought_with_the_keyboard_only(
    page: Page, shop: Shop, engine: Engine
) -> None:
    # Not one mouse event: Tab, arrows, typing and Enter take the buyer through.
    page.goto(shop.url("/shop/?lang=en"))
    follow_link_by_keyboard(page, f"/shop/event/{UNRESERVED}")
    type_into(page, "qty-1", "2")
    submit_by_keyboard(page, "Add to cart")
    expect(page.locator(".notice")).to_contain_text("2 tickets added")
    follow_link_by_keyboard(page, "/shop/cart")
    expect(page.locator("tbody tr")).to_have_count(2)
    follow_link_by_keyboard(page, "/shop/checkout")
    fill_details_by_keyboard(page)
    choose_payment_by_keyboard(page, SHOP_TEST_PAY)
    submit_by_keyboard(page, "Order and pay")
    submit_by_keyboard(page, "Pay €")
    order_key = paid_tickets(page, shop, engine)
    exported = exported_order(shop, order_key)
    assert exported["user"]["email"] == "grace@example.org"  # type: ignore[index]
    assert [s["eventId"] for s in exported["seats"]] == [UNRESERVED, UNRESERVED]  # type: ignore[attr-defined]


def test_the_seat_map_is_used_with_the_arrow_keys_and_space(page: Page, shop: Shop) -> None:
    page.goto(shop.url(f"/shop/event/{RESERVED}?lang=en"))
    first = page.locator('.seat.free[tabindex="0"]')
    first_id = first.get_attribute("data-seat")
    first.focus()
    page.keyboard.press("ArrowRight")
    focused = page.evaluate("() => document.activeElement.getAttribute('data-seat')")
    assert focused != first_id
    page.keyboard.press("Space")
    chosen = page.locator(f'[data-seat="{focused}"]')
    expect(chosen).to_have_attribute("aria-checked", "true")
    expect(chosen).to_have_attribute("tabindex", "0")  # the map's one Tab stop moved along
    page.keyboard.press("ArrowDown")
    below = page.evaluate("() => document.activeElement.getAttribute('data-row')")
    assert below == str(int(chosen.get_attribute("data-row") or "0") + 1)
    page.keyboard.press("Space")
    submit_by_keyboard(page, "Add the chosen seats to the cart")
    expect(page.locator(".seat.mine")).to_have_count(2)
