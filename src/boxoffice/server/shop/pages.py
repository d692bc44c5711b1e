"""Rendering the shop's pages: the visit (client, language, cart), templates, error pages.

Every page is rendered in the visit's language by a Jinja2 environment with the gettext
extension (i18n.py). The cart's id comes from `?session_id=` (what an embedding site's
frame passes; links then keep it) or from a cookie per client, scoped to its shop's path.
"""

from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.resources import files
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from jinja2 import Environment

from boxoffice.server.carts.service import CartExpired
from boxoffice.server.errors import AppError, NotFound
from boxoffice.server.public.errors import PublicNotFound
from boxoffice.server.public.tenancy import public_tenant
from boxoffice.server.public.urls import absolute_url, origin
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.tickets import i18n
from boxoffice.server.tickets.i18n import N_
from boxoffice.server.tickets.pages import translated_templates

CART_COOKIE = "boxoffice_cart"
LANGUAGE_COOKIE = "boxoffice_lang"
# Pages show a cart: never cached. Everything the page loads comes from the app itself
# (the demo's images too: posters.py); a venue's catalog may point its images at its own
# https site. A venue may frame it.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' https: data:; "
    "object-src 'none'; base-uri 'none'",
}
# An order's page is reached by its key, the buyer's credential: never sent on.
ORDER_HEADERS = PAGE_HEADERS | {"Referrer-Policy": "no-referrer"}


@cache
def environment(language: str) -> Environment:
    """The shop's templates in `language`; they extend the one page shell (tickets/)."""
    return translated_templates("boxoffice.server.shop", language)


@dataclass(frozen=True)
class Visit:
    """One request to the shop: whose shop, in which language, with which cart."""

    tenant: Tenant
    language: str
    path: str
    cart_id: str | None
    # The cart came in the URL (a frame of an embedding site): links and forms keep it.
    framed: bool
    # The language was asked for in the URL: links keep it (a frame may have no cookies).
    language_asked: bool
    # `https://host` of the request: a catalog's root-relative image is made absolute with it.
    origin: str
    carried: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        carried = {}
        if self.framed and self.cart_id:
            carried["session_id"] = self.cart_id
        if self.language_asked:
            carried["lang"] = self.language
        object.__setattr__(self, "carried", carried)

    @property
    def root(self) -> str:
        return f"/{self.tenant.name}/shop"

    def with_cart(self, cart_id: str | None) -> "Visit":
        return replace(self, cart_id=cart_id)

    def link(self, path: str = "", **params: str) -> str:
        query = self.carried | params
        return self.root + path + (f"?{urlencode(query)}" if query else "")

    def switch(self, language: str) -> str:
        """This page in another language."""
        return f"{self.path}?{urlencode(self.carried | {'lang': language})}"

    def image(self, url: str | None) -> str | None:
        """A catalog image's URL: the app's own posters absolute, like the public API's."""
        return absolute_url(self.origin, url)

    def static(self, name: str) -> str:
        return f"{self.root}/static/{name}"

    def gettext(self, message: str, **values: Any) -> str:
        text = i18n.translations(self.language).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        text = i18n.translations(self.language).ngettext(singular, plural, count)
        return text % {"count": count}

    def money(self, cents: int) -> str:
        return i18n.money(cents, self.language)

    def moment(self, micros: int) -> str:
        return i18n.moment(micros, self.tenant.timezone, self.language)

    def clock(self, micros: int) -> str:
        return i18n.clock(micros, self.tenant.timezone)


def _language(request: Request, form: Mapping[str, Any]) -> tuple[str, bool]:
    asked = request.query_params.get("lang") or form.get("lang")
    language = i18n.choose_language(
        asked if isinstance(asked, str) else None,
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("accept-language", ""),
    )
    return language, asked == language


def visit_of(request: Request, tenant: Tenant, form: Mapping[str, Any] | None = None) -> Visit:
    form = form or {}
    language, asked = _language(request, form)
    given = request.query_params.get("session_id") or form.get("session_id")
    cart_id = given if isinstance(given, str) and given else request.cookies.get(CART_COOKIE)
    return Visit(
        tenant=tenant,
        language=language,
        path=request.url.path,
        cart_id=cart_id or None,
        framed=bool(given),
        language_asked=asked,
        origin=origin(request),
    )


def _remember(response: Response, visit: Visit) -> Response:
    """The cart's cookie, and the language when one was chosen; for this client's shop only."""
    if visit.cart_id is None:
        response.delete_cookie(CART_COOKIE, path=visit.root)
    else:
        response.set_cookie(
            CART_COOKIE, visit.cart_id, path=visit.root, httponly=True, samesite="lax"
        )
    if visit.language_asked:
        response.set_cookie(
            LANGUAGE_COOKIE, visit.language, path=visit.root, httponly=True, samesite="lax"
        )
    return response


def render(
    visit: Visit,
    template: str,
    *,
    basket: int,
    status: int = 200,
    headers: Mapping[str, str] = PAGE_HEADERS,
    **context: Any,
) -> Response:
    """A page of the shop; `basket` is the number of tickets in the cart (the embedding
    site's basket counter is told it, shop.js)."""
    html = (
        environment(visit.language)
        .get_template(template)
        .render(visit=visit, language=visit.language, basket=basket, **context)
    )
    return _remember(HTMLResponse(html, status_code=status, headers=dict(headers)), visit)


def redirect(visit: Visit, location: str) -> Response:
    """After a form: on to a page (303), remembering the cart."""
    return _remember(Response(status_code=303, headers={"Location": location}), visit)


# Titles and explanations of the error pages, by HTTP status.
_ERRORS: dict[int, tuple[str, str]] = {
    404: (N_("Page not found"), N_("There is no such page in this shop.")),
    409: (N_("Not available"), N_("This is no longer possible: the page has changed.")),
    410: (
        N_("Your time ran out"),
        N_("Your cart expired and its places were released. You can start again."),
    ),
    422: (N_("Please check your input"), N_("Something you sent could not be used.")),
}


def error_page(request: Request, exc: AppError) -> Response:
    """An error as a page of the shop, in the visitor's language; nothing of the request
    echoed back but the client's own name."""
    status = exc.status_code if exc.status_code in _ERRORS else 404
    title, explanation = _ERRORS[status]
    language, _asked = _language(request, {})
    try:
        tenant: Tenant | None = public_tenant(request, request.path_params.get("client_name", ""))
    except PublicNotFound:
        tenant = None
    expired = isinstance(exc, CartExpired)
    if tenant is None:
        html = (
            environment(language)
            .get_template("error.html")
            .render(visit=None, language=language, basket=0, title=title, explanation=explanation)
        )
        return HTMLResponse(html, status_code=404, headers=PAGE_HEADERS)
    visit = visit_of(request, tenant)
    return render(
        visit,
        "error.html",
        basket=0,
        status=status,
        title=title,
        explanation=explanation,
        expired=expired,
    )


class ShopRoute(APIRoute):
    """A shop route answers every expected error with a page, never the API's JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def shop_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except AppError as exc:
                return error_page(request, exc)

        return shop_handler


@cache
def static_file(name: str) -> tuple[bytes, str]:
    """A file of the shop's static/ folder and its media type (404 for any other name)."""
    media = {"css": "text/css", "js": "text/javascript", "svg": "image/svg+xml"}
    suffix = name.rpartition(".")[2]
    folder = files("boxoffice.server.shop").joinpath("static")
    if suffix not in media or "/" in name or name.startswith("."):
        raise NotFound("File")
    source = folder.joinpath(name)
    if not source.is_file():
        raise NotFound("File")
    return source.read_bytes(), f"{media[suffix]}; charset=utf-8"
