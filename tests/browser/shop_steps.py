"""Steps of a purchase in the shop, as a buyer takes them in Chromium; screenshots of them.

The keyboard steps use the keyboard only (Tab, arrows, typing, Enter): no mouse event.
Screenshots go to docs/shop/ only when BOXOFFICE_SCREENSHOTS=1, so that a test run leaves
the checkout as it was.
"""

import os
from pathlib import Path

from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "shop"
BUYER = {
    "f-email": "grace@example.org",
    "f-firstname": "Grace",
    "f-lastname": "Hopper",
    "f-phone": "+31 6 1234 5678",
    "f-address": "Kerkstraat 1",
    "f-zip": "1017 GA",
    "f-city": "Amsterdam",
}
MOST_TABS = 120


def screenshot(page: Page, name: str, *, full_page: bool = True) -> None:
    """docs/shop/<name>.png, when BOXOFFICE_SCREENSHOTS=1."""
    if os.environ.get("BOXOFFICE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def tab_to(page: Page, condition: str) -> None:
    """Press Tab until `condition` (JavaScript about `el`, the focused element) holds."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!({condition}); }}"):
            return
    raise AssertionError(f"Tab never reached an element where {condition}")


def follow_link_by_keyboard(page: Page, href_part: str) -> None:
    tab_to(page, f"el.tagName === 'A' && el.getAttribute('href').includes({href_part!r})")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def type_into(page: Page, element_id: str, text: str) -> None:
    tab_to(page, f"el.id === {element_id!r}")
    page.keyboard.press("Control+A")
    page.keyboard.type(text)


def fill_details_by_keyboard(page: Page) -> None:
    for element_id, text in BUYER.items():
        type_into(page, element_id, text)


def choose_payment_by_keyboard(page: Page, method_id: int) -> None:
    """Tab into the payment methods (the checked one takes the focus), arrows to `method_id`."""
    tab_to(page, "el.name === 'payment_id'")
    for _ in range(10):
        if page.evaluate("() => document.activeElement.value") == str(method_id):
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"payment method {method_id} not reached")


def submit_by_keyboard(page: Page, button_text: str) -> None:
    tab_to(page, f"el.tagName === 'BUTTON' && el.textContent.includes({button_text!r})")
    with page.expect_navigation():
        page.keyboard.press("Enter")


def fill_details(page: Page) -> None:
    for element_id, text in BUYER.items():
        page.fill(f"#{element_id}", text)


def no_sideways_scroll(page: Page) -> bool:
    return bool(
        page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    )
