"""The embed scripts on a venue's page, in headless Chromium, against a running Boxoffice.

The venue's page is static, on another origin than Boxoffice, with the markup that
VoordeMensen's WordPress plugin renders (its `[vdm_buy]`, `[vdm_cartbutton]` and
`[vdm_basketcounter]` shortcodes, and a theme's `.voordemensen_basketcounter`) and a small
script doing what the plugin's browser script does: get a session for the visitor's token
from the ticket host, open the shop with `vdm_order(event, session)`, and show the basket
count read from the ticket host's cart (`Object.keys(response).length - 1`). The plugin
asks for the session from PHP; here the page asks the ticket host itself (the API allows
any origin).

The shop in the dialog is Boxoffice's own (server/shop/): the test adds tickets there as
a buyer does, and the shop tells the page its basket count and asks it to close on Escape.
"""

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import PHONE, Shop, Site, axe_violations
from tests.builders import UNRESERVED

SCRIPTS = ("vdm_loader.js", "vdm_sideloader.js")
BUY_BUTTON = "vdm-buy-button-6571d0c4a1b2e"
CART_BUTTON = "vdm-cart-button-6571d0c4a1b3f"

# [vdm_buy] and [vdm_cartbutton] as the plugin renders them (esc_attr: ' is &#039;).
BUY_MARKUP = (
    "<button id='BUY' onclick='javascript:vdmOrderWithSession(&#039;EVENT&#039;, "
    "&#039;BUY&#039;);'>Koop nu</button>"
)
CART_MARKUP = (
    "<button id='CART' onclick='javascript:vdmOrderWithSession(&#039;cart&#039;, "
    "&#039;CART&#039;);'>Cart</button>"
)
# The page: the plugin's shortcodes as they render, then the ticket host's loader script
# (the plugin adds ?ver=...) and the session script.
VENUE = """<!doctype html>
<html lang="LANG">
<head><meta charset="utf-8"><title>Hamlet - Venue</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body>
<header><p>Basket: <span class="voordemensen_basketcounter">0</span></p></header>
<main>
<h1>Hamlet</h1>
<p>Shakespeare's tragedy in the foyer.</p>
BUY_MARKUP
CART_MARKUP
<p>Tickets in your basket: <span class='vdm_basketcounter'>...</span></p>
</main>
<script src="TICKET_HOST/CLIENT/iframes/SCRIPT?ver=2.5.1"></script>
<script>
  var ticketHost = "TICKET_HOST", client = "CLIENT";
  function cookie(name) {
    var found = document.cookie.split("; ").filter(function (c) {
      return c.indexOf(name + "=") === 0;
    });
    return found.length ? found[0].slice(name.length + 1) : null;
  }
  function sessionId() {
    var known = cookie("voordemensen_session_id");
    if (known) { return Promise.resolve(known); }
    var token = cookie("user_token");
    if (!token) {
      token = Array.from(crypto.getRandomValues(new Uint8Array(16)),
        function (b) { return b.toString(16).padStart(2, "0"); }).join("");
      document.cookie = "user_token=" + token + "; path=/";
    }
    return fetch(ticketHost + "/api/" + client + "/get-session?token=" + token)
      .then(function (r) { return r.json(); })
      .then(function (data) {
        document.cookie = "voordemensen_session_id=" + data.session_id + "; path=/";
        return data.session_id;
      });
  }
  function vdmOrderWithSession(eventId, buttonId) {
    sessionId().then(function (id) { vdm_order(eventId, id); });
  }
  function updateBasketCounter(id) {
    return fetch(ticketHost + "/api/" + client + "/cart/" + id)
      .then(function (r) { return r.json(); })
      .then(function (response) {
        var count = Object.keys(response).length - 1;
        document.querySelectorAll(".vdm_basketcounter").forEach(function (e) {
          e.textContent = count;
        });
      });
  }
  sessionId().then(updateBasketCounter);
</script>
</body>
</html>
"""


@dataclass
class Venue:
    """The venue's page with one of the scripts, and what the shop's address was asked."""

    page: Page
    shop: Shop
    url: str

    def session(self) -> str:
        cookies = {c["name"]: c["value"] for c in self.page.context.cookies(self.url)}
        return cookies["voordemensen_session_id"]

    def basket_count(self) -> int:
        reply = httpx.get(self.shop.server.url(f"/api/{self.shop.name}/cart/{self.session()}"))
        return len(reply.json()) - 1


def open_venue(page: Page, shop: Shop, site: Site, script: str, lang: str = "en") -> Venue:
    html = (
        VENUE.replace("BUY_MARKUP", BUY_MARKUP)
        .replace("CART_MARKUP", CART_MARKUP)
        .replace("LANG", lang)
        .replace("TICKET_HOST", shop.server.url(""))
        .replace("CLIENT", shop.name)
        .replace("SCRIPT", script)
        .replace("EVENT", str(UNRESERVED))
        .replace("BUY", BUY_BUTTON)
        .replace("CART", CART_BUTTON)
    )
    venue = Venue(page=page, shop=shop, url=site.put("/hamlet.html", html))
    page.goto(venue.url)
    # The plugin's counter: a session for the new visitor, and its empty cart (0).
    expect(page.locator(".vdm_basketcounter")).to_have_text("0")
    return venue


def add_two_tickets(page: Page) -> None:
    """In the shop's frame, at the unreserved event: two tickets, as a buyer adds them."""
    frame = page.frame_locator("iframe.vdm-frame")
    frame.get_by_label(re.compile(r"^Vrije plaats")).fill("2")
    frame.get_by_role("button", name="Add to cart").click()
    expect(frame.get_by_role("link", name="Go to the cart (2)")).to_be_visible()


@pytest.fixture(params=SCRIPTS)
def script(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE, locale="en-GB", is_mobile=True, has_touch=True)
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


def active_element(page: Page) -> dict[str, str]:
    return dict(
        page.evaluate(
            "() => ({id: document.activeElement.id, cls: document.activeElement.className,"
            " tag: document.activeElement.tagName})"
        )
    )


def test_the_buy_button_opens_the_shop_and_the_counters_follow_it(
    page: Page, shop: Shop, site: Site, script: str
) -> None:
    venue = open_venue(page, shop, site, script)
    page.locator(f"#{BUY_BUTTON}").click()

    modal = page.get_by_role("dialog", name="Ticket shop")
    expect(modal).to_be_visible()
    expect(modal).to_have_attribute("aria-modal", "true")
    # The shop at the event, with the visitor's session, in the dialog's iframe.
    session = venue.session()
    expected = shop.url(f"/shop/event/{UNRESERVED}?session_id={session}")
    expect(modal.locator("iframe")).to_have_attribute("src", expected)
    expect(page.frame_locator("iframe.vdm-frame").locator("h1")).to_have_text("Hamlet (foyer)")
    # The focus is in the dialog, on its Close button.
    expect(modal.get_by_role("button", name="Close")).to_be_focused()

    # The buyer puts two tickets in the cart; the shop tells the page.
    add_two_tickets(page)
    expect(page.locator(".voordemensen_basketcounter")).to_have_text("2")
    expect(page.locator(".vdm_basketcounter")).to_have_text("2")
    assert venue.basket_count() == 2

    # Escape in the shop closes it, and the focus is back on the buy button.
    page.keyboard.press("Escape")
    expect(modal).to_have_count(0)
    expect(page.locator(f"#{BUY_BUTTON}")).to_be_focused()

    # The next page view: the same session, its count from the ticket host's cart.
    page.reload()
    expect(page.locator(".vdm_basketcounter")).to_have_text("2")
    assert venue.session() == session


def test_the_cart_button_opens_the_cart_and_escape_or_the_close_button_close_it(
    page: Page, shop: Shop, site: Site, script: str
) -> None:
    venue = open_venue(page, shop, site, script)
    page.locator(f"#{CART_BUTTON}").click()
    modal = page.get_by_role("dialog", name="Ticket shop")
    expected = shop.url(f"/shop/cart?session_id={venue.session()}")
    expect(modal.locator("iframe")).to_have_attribute("src", expected)
    # Escape on the page (the focus is on the Close button) closes it; open it again.
    expect(page.get_by_role("button", name="Close")).to_be_focused()
    page.keyboard.press("Escape")
    expect(modal).to_have_count(0)
    expect(page.locator(f"#{CART_BUTTON}")).to_be_focused()
    page.locator(f"#{CART_BUTTON}").click()
    expect(modal.locator("iframe")).to_have_attribute("src", expected)
    # Focus stays in the dialog: backwards from its first control it does not reach the page.
    page.keyboard.press("Shift+Tab")
    assert page.evaluate(
        "() => document.querySelector('[role=dialog]').contains(document.activeElement)"
    )
    page.get_by_role("button", name="Close").focus()
    page.keyboard.press("Enter")
    expect(modal).to_have_count(0)
    expect(page.locator(f"#{CART_BUTTON}")).to_be_focused()


def test_a_basket_count_from_another_origin_is_ignored(
    page: Page, shop: Shop, site: Site, script: str
) -> None:
    open_venue(page, shop, site, script)
    page.locator(f"#{BUY_BUTTON}").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    # The venue's own origin (or any other) is not the shop: the counters stay as they are.
    page.evaluate("() => window.postMessage({voordemensen_basketcounter: 99}, '*')")
    page.evaluate("() => window.postMessage(JSON.stringify({voordemensen_basketcounter: 98}), '*')")
    page.wait_for_function("() => true")
    expect(page.locator(".voordemensen_basketcounter")).to_have_text("0")
    expect(page.locator(".vdm_basketcounter")).to_have_text("0")


def test_the_dialog_fits_a_phone(phone: Page, shop: Shop, site: Site, script: str) -> None:
    open_venue(phone, shop, site, script)
    phone.locator(f"#{BUY_BUTTON}").click()
    modal = phone.get_by_role("dialog")
    expect(modal).to_be_visible()
    box = modal.bounding_box()
    assert box is not None
    assert (box["x"], box["width"]) == (0, PHONE["width"])
    assert box["height"] == PHONE["height"]
    close = phone.get_by_role("button", name="Close").bounding_box()
    assert close is not None
    assert close["width"] >= 44 and close["height"] >= 44
    assert close["x"] + close["width"] <= PHONE["width"]
    frame = phone.locator("iframe.vdm-frame").bounding_box()
    assert frame is not None and frame["width"] == PHONE["width"]
    assert frame["height"] >= PHONE["height"] - 80
    scroll = phone.evaluate("() => document.documentElement.scrollWidth")
    assert scroll <= PHONE["width"]
    add_two_tickets(phone)
    expect(phone.locator(".voordemensen_basketcounter")).to_have_text("2")


def test_the_side_panel_is_at_the_right_and_the_loader_is_full_screen(
    page: Page, shop: Shop, site: Site, script: str
) -> None:
    open_venue(page, shop, site, script)
    page.locator(f"#{BUY_BUTTON}").click()
    box = page.get_by_role("dialog").bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    assert box["x"] + box["width"] == viewport["width"]
    assert box["height"] == viewport["height"]
    if script == "vdm_sideloader.js":
        assert box["width"] == 480
        # A click beside the panel closes it.
        page.mouse.click(10, 10)
        expect(page.get_by_role("dialog")).to_have_count(0)
    else:
        assert (box["x"], box["width"]) == (0, viewport["width"])


def test_a_dutch_page_gets_dutch_labels(page: Page, shop: Shop, site: Site, script: str) -> None:
    open_venue(page, shop, site, script, lang="nl")
    page.locator(f"#{BUY_BUTTON}").click()
    modal = page.get_by_role("dialog", name="Kaartverkoop")
    expect(modal).to_be_visible()
    expect(modal.get_by_role("button", name="Sluiten")).to_be_focused()


def test_no_serious_accessibility_violation_with_the_dialog_open(
    page: Page, shop: Shop, site: Site, script: str
) -> None:
    open_venue(page, shop, site, script)
    assert axe_violations(page) == []
    page.locator(f"#{BUY_BUTTON}").click()
    frame = page.frame_locator("iframe.vdm-frame")
    expect(frame.get_by_role("button", name="Add to cart")).to_be_visible()
    violations = axe_violations(page)
    assert violations == [], json.dumps(violations, indent=1)
