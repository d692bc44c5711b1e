"""Two browsers choose the same seat: exactly one gets it; the other is told so and sees a
map that is up to date."""

from playwright.sync_api import Browser, expect
from sqlalchemy import Engine

from tests.browser.conftest import Shop
from tests.browser.shop_steps import screenshot
from tests.builders import PARKET, RESERVED
from tests.carts.conftest import claims_of


def test_two_browsers_race_for_one_seat_and_exactly_one_gets_it(
    browser: Browser, shop: Shop, engine: Engine
) -> None:
    seat = shop.catalog.seat[(PARKET, 2, 5)]
    contexts = [browser.new_context(locale="en-GB") for _ in range(2)]
    try:
        first, second = (context.new_page() for context in contexts)
        for page in (first, second):
            page.set_viewport_size({"width": 1100, "height": 900})
            page.goto(shop.url(f"/shop/event/{RESERVED}?lang=en"))
            page.locator(f'[data-seat="{seat}"]').click()
            expect(page.locator(f'[data-seat="{seat}"]')).to_have_attribute("aria-checked", "true")

        add = "Add the chosen seats to the cart"
        first.get_by_role("button", name=add).click()
        expect(first.locator(".notice")).to_contain_text("1 ticket added")
        second.get_by_role("button", name=add).click()
        expect(second.locator('[role="alert"]')).to_contain_text("just taken by someone else")
        # The map the loser sees is fresh: the seat is taken there, no longer a control.
        expect(second.locator(f'[data-seat="{seat}"]')).to_have_count(0)
        expect(second.locator("main")).to_have_attribute("data-basket-count", "0")
        screenshot(second, "8-seat-taken-meanwhile")

        held = [c for c in claims_of(engine, shop.client.tenant.id) if c["place_key"] == f"s{seat}"]
        assert len(held) == 1
    finally:
        for context in contexts:
            context.close()
