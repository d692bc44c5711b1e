"""Browser tests: a real Boxoffice server, a real headless Chromium, and axe-core's scan.

- `boxoffice`: `boxoffice serve` as its own process on 127.0.0.1 (a free port) over the test
  database, once per module and database (SQLite and PostgreSQL, like every `engine` test).
- `shop`: a client of its own on that server with a shop's catalog (tests/builders:
  `build_shop_catalog`: halls with sections, rows and seats, a reserved and an unreserved
  event with prices, and a payment method of the `test` provider).
- `browser`, `page`: Debian's Chromium driven by Playwright (its own browser downloads are
  never used), one browser per session, a fresh context (cookies, storage) per test.
- `site`: a static web site of the test's own pages on another port of 127.0.0.1, so
  another origin than Boxoffice's (a venue's site that embeds the shop).
- `axe_violations(page)`: axe-core (node_modules/, from package-lock.json by `npm ci`)
  run on the page and its frames; the serious and critical violations.

Without Chromium or axe-core the tests are skipped, except in CI (CI=true), where that
is a failure, as for PostgreSQL.
"""

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Playwright, sync_playwright
from sqlalchemy import Engine

from tests.builders import Catalog, build_shop_catalog
from tests.conftest import Client, new_client
from tests.ops.server import Server, serve

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("BOXOFFICE_TEST_CHROMIUM", "/usr/bin/chromium"))
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
REQUIRED = os.environ.get("CI") == "true"
# Playwright gives each launch a fresh temporary profile (user data dir) and removes it.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A phone's screen, for the tests of small screens.
PHONE = {"width": 375, "height": 740}
SERIOUS = ("serious", "critical")


def _missing() -> str | None:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    if not AXE.is_file():
        return f"axe-core is not installed at {AXE} (npm ci)"
    return None


# Per module, not per session: Playwright's sync API keeps an event loop running in this
# thread while it is started, so a later test file on the same xdist worker that calls
# asyncio.run() would fail ("cannot be called from a running event loop").
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    missing = _missing()
    if missing is not None:
        if REQUIRED:
            pytest.fail(f"the browser tests are required in CI: {missing}")
        pytest.skip(missing)
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a fresh context: no cookies or storage of another test."""
    context = browser.new_context(locale="en-GB")
    context.set_default_timeout(30_000)
    yield context.new_page()
    context.close()


@pytest.fixture(scope="module")
def boxoffice(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server over the test database (each backend), without the public rate limit
    (the tests' browsers all come from 127.0.0.1)."""
    workdir = tmp_path_factory.mktemp("server")
    with serve(database_url, workdir, BOXOFFICE_PUBLIC_RATE_LIMIT_REQUESTS="0") as server:
        yield server


@dataclass
class Shop:
    """A client with a shop's catalog, on the running server."""

    server: Server
    client: Client
    catalog: Catalog

    @property
    def name(self) -> str:
        return self.client.name

    def url(self, path: str = "") -> str:
        """A URL of this client's: `shop.url("/shop/cart")`, `shop.url("/iframes/...")`."""
        return self.server.url(f"/{self.client.name}{path}")

    def api(self, path: str = "") -> str:
        """A URL of this client's public API: `shop.api("/cart")`."""
        return self.server.url(f"/v1/{self.client.name}{path}")


@pytest.fixture
def shop(boxoffice: Server, engine: Engine) -> Shop:
    client = new_client(engine)
    return Shop(server=boxoffice, client=client, catalog=build_shop_catalog(engine, client))


@dataclass
class Site:
    """A static site on 127.0.0.1: the test puts pages in it, a browser loads them."""

    port: int
    pages: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    requested: list[str] = field(default_factory=list)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def put(self, path: str, body: str, content_type: str = "text/html; charset=utf-8") -> str:
        """Serve `body` at `path`; returns its URL."""
        self.pages[path] = (content_type, body.encode())
        return self.origin + path


def _handler(site_of: Callable[[], Site]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site = site_of()
            site.requested.append(self.path)
            found = site.pages.get(self.path.split("?", 1)[0])
            if found is None:
                self.send_error(404)
                return
            content_type, body = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    """A venue's web site: another origin than Boxoffice's, stopped after the test."""
    holder: list[Site] = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(lambda: holder[0]))
    holder.append(Site(port=int(httpd.server_address[1])))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield holder[0]
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=30)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page, its frames included: each
    as {id, impact, help, targets}. Injected through the debugging protocol, so a page's
    Content-Security-Policy does not stop it (and need not allow it)."""
    source = AXE.read_text(encoding="utf-8")
    for frame in page.frames:
        frame.evaluate(f"() => {{ if (!window.axe) {{ {source}\n }} }}")
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "targets": [node["target"] for node in violation["nodes"]],
        }
        for violation in results["violations"]
        if violation["impact"] in SERIOUS
    ]
