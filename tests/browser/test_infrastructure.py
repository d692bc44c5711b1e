"""The browser tests' own tools: the server, Chromium, the venue site and the axe scan."""

from playwright.sync_api import Page

from tests.browser.conftest import Shop, Site, axe_violations


def test_chromium_reads_a_page_of_the_running_server(page: Page, shop: Shop) -> None:
    page.goto(shop.server.url("/"))
    assert page.locator("h1").inner_text().startswith("Boxoffice")
    assert axe_violations(page) == []


def test_the_venue_site_is_another_origin_and_axe_reports_its_faults(
    page: Page, shop: Shop, site: Site
) -> None:
    # An image without a text alternative and a button without a name: both critical. The
    # page allows no script at all: the scan runs all the same.
    url = site.put(
        "/faulty.html",
        '<!doctype html><html lang="en"><head><title>Venue</title>'
        '<meta http-equiv="Content-Security-Policy" content="script-src \'none\'">'
        "</head><body><main>"
        '<img src="/missing.png"><button></button></main></body></html>',
    )
    page.goto(url)
    assert site.origin != shop.server.url("")
    found = {violation["id"] for violation in axe_violations(page)}
    assert {"image-alt", "button-name"} <= found
    assert site.requested[0] == "/faulty.html"
