"""axe-core scans every page of a purchase (programme, event with its seat map, an
unreserved event, cart, checkout with and without errors, the payment page, the
confirmation), in Dutch and in English, on a desktop screen and a 375-pixel phone: no
serious or critical violation, and no page scrolls sideways on the phone."""

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, Shop, axe_violations
from tests.browser.shop_steps import fill_details, no_sideways_scroll, screenshot
from tests.builders import PARKET, RESERVED, SHOP_TEST_PAY, UNRESERVED

DESKTOP = {"width": 1280, "height": 900}


def scanned(page: Page, what: str, found: dict[str, list[dict[str, object]]], phone: bool) -> None:
    violations = axe_violations(page)
    if violations:
        found[what] = violations
    if phone:
        assert no_sideways_scroll(page), f"{what} scrolls sideways at 375 pixels"


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("screen", ["desktop", "phone"])
def test_every_shop_page_passes_the_accessibility_scan(
    browser: Browser, shop: Shop, language: str, screen: str
) -> None:
    phone = screen == "phone"
    context = browser.new_context(
        locale="nl-NL" if language == "nl" else "en-GB",
        viewport=PHONE if phone else DESKTOP,
    )
    found: dict[str, list[dict[str, object]]] = {}
    try:
        page = context.new_page()
        page.goto(shop.url(f"/shop/?lang={language}"))
        expect(page.locator("html")).to_have_attribute("lang", language)
        scanned(page, "programme", found, phone)

        page.goto(shop.url(f"/shop/event/{UNRESERVED}"))
        scanned(page, "unreserved event", found, phone)

        page.goto(shop.url(f"/shop/event/{RESERVED}"))
        seat = shop.catalog.seat[(PARKET, 4, 3 if phone else 7)]
        page.locator(f'[data-seat="{seat}"]').click()
        scanned(page, "event with its seat map", found, phone)
        # Nothing of the map is cut off: it fits its box, the row numbers on both sides too.
        fits = "b => b.scrollWidth <= b.clientWidth"
        assert page.locator(".seatmap-scroll").evaluate(fits)
        # Only the chosen seat's rank offers its ticket types (the seat is Rang 2's).
        expect(page.locator(".rank-price:visible")).to_have_count(0)
        if phone and language == "nl":
            screenshot(page, "9-phone-seat-map", full_page=False)
        page.locator(".seat-form button[type=submit]").click()
        expect(page.locator(".seat.mine")).to_have_count(1)
        scanned(page, "event after adding", found, phone)

        page.goto(shop.url("/shop/cart"))
        scanned(page, "cart", found, phone)

        page.goto(shop.url("/shop/checkout"))
        scanned(page, "checkout", found, phone)
        page.locator("form[action*='/checkout'] button[type=submit]").click()
        expect(page.locator(".error-list")).to_be_visible()
        scanned(page, "checkout with errors", found, phone)
        if not phone and language == "nl":
            screenshot(page, "5b-checkout-errors")

        fill_details(page)
        page.locator(f'input[name="payment_id"][value="{SHOP_TEST_PAY}"]').check()
        page.locator("form[action*='/checkout'] button[type=submit]").click()
        expect(page.locator("form button").first).to_be_visible()
        scanned(page, "payment page", found, phone)

        page.locator("button[type=submit]").first.click()
        expect(page.locator(".order-key")).to_be_visible()
        scanned(page, "confirmation", found, phone)

        page.goto(shop.url("/shop/event/999999"))
        scanned(page, "404 page", found, phone)
    finally:
        context.close()
    assert found == {}
