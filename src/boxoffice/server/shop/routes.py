"""The shop's pages: programme, event (seat map), cart, checkout, order confirmation.

Every route is per client (`/{client_name}/shop/...`), answers HTML (errors too: pages.py)
and stays out of the API's OpenAPI document. Forms post back to the shop, which answers
with a redirect (303) to the page that shows the result, or with the form's page again
and a message (409, 410, 422) when nothing could be done; nothing is written then.
"""

from collections.abc import Callable, Mapping
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import Path, Request, Response
from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from boxoffice.server.config import Settings
from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.deps import AppEngine, AppSettings
from boxoffice.server.errors import Conflict, InvalidInput
from boxoffice.server.lenient import api_router
from boxoffice.server.public.order_schemas import OrderCreateInput
from boxoffice.server.public.tenancy import PublicTenant
from boxoffice.server.public.urls import origin, public_base
from boxoffice.server.shop import service
from boxoffice.server.shop.forms import (
    buyer_fields,
    checkout_errors,
    counts_of,
    prices_of,
    problem_text,
    seat_ids_of,
)
from boxoffice.server.shop.pages import (
    ORDER_HEADERS,
    ShopRoute,
    Visit,
    redirect,
    render,
    static_file,
    visit_of,
)
from boxoffice.server.shop.posters import POSTERS_PATH, poster_svg
from boxoffice.server.shop.seatmap import draw
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.values.clock import now_micros

router = api_router(route_class=ShopRoute, include_in_schema=False)
SHOP = "/{client_name}/shop"

EventId = Annotated[str, Path(max_length=20)]
OrderKey = Annotated[str, Path(max_length=64)]
MICROS_PER_SECOND = 1_000_000
Form = dict[str, Any]


# What a form's route does once the form is read: (visit, form) -> the answer.
Action = Callable[[Visit, Form], Response]


async def _form(request: Request) -> Form:
    """The posted form's fields: a list for `seat`, text for the others."""
    form = await request.form()
    fields: Form = {k: v for k, v in form.items() if isinstance(v, str)}
    fields["seat"] = [v for v in form.getlist("seat") if isinstance(v, str)]
    return fields


async def _posted(request: Request, tenant: Tenant, action: Action) -> Response:
    """Read the posted form, then do `action` in the thread pool (it uses the database)."""
    form = await _form(request)
    return await run_in_threadpool(action, visit_of(request, tenant, form), form)


def _basket(cart: service.FoundCart) -> int:
    view = cart.cart.view
    if cart.state != "open" or view is None:
        return 0
    return sum(1 for item in view.items if item["item_type"] == "ticket")


@router.get(SHOP)
def programme(request: Request, tenant: PublicTenant, engine: AppEngine) -> Response:
    visit = visit_of(request, tenant)
    now = now_micros()
    with read_transaction(engine) as conn:
        catalog = service.get_programme(conn, tenant=tenant, now=now)
        cart = service.find_cart(conn, tenant=tenant, cart_id=visit.cart_id, now=now)
    return render(visit, "programme.html", basket=_basket(cart), catalog=catalog)


def _event_page(
    engine: Engine,
    visit: Visit,
    event_id: str,
    *,
    problem: str | None = None,
    status: int = 200,
    notice: str | None = None,
) -> Response:
    """The event's page as it is now (after a refused form: with why, and the map fresh)."""
    now = now_micros()
    with read_transaction(engine) as conn:
        cart = service.find_cart(conn, tenant=visit.tenant, cart_id=visit.cart_id, now=now)
        page = service.get_event_page(
            conn, tenant=visit.tenant, event_id=event_id, cart=cart.cart, now=now
        )
    seat_map = draw(page.places, page.sections, page.own_seat_ids) if page.places.reserved else None
    return render(
        visit,
        "event.html",
        basket=_basket(cart),
        status=status,
        page=page,
        seat_map=seat_map,
        problem=problem,
        notice=notice,
    )


@router.get(SHOP + "/event/{event_id}")
def event(request: Request, tenant: PublicTenant, engine: AppEngine, event_id: EventId) -> Response:
    visit = visit_of(request, tenant)
    added = request.query_params.get("added")
    notice = None
    if added is not None and added.isdigit():
        notice = visit.ngettext(
            "%(count)s ticket added to your cart.",
            "%(count)s tickets added to your cart.",
            int(added),
        )
    return _event_page(engine, visit, event_id, notice=notice)


def _hold(engine: Engine, settings: Settings, visit: Visit, event_id: str, form: Form) -> Response:
    """Hold the seats chosen on the map, or the best available of each ticket type."""
    try:
        with write_transaction(engine) as tx:
            cart_id = service.open_cart(
                tx,
                tenant=visit.tenant,
                cart_id=visit.cart_id,
                hold_minutes=settings.cart_hold_minutes,
            )
            if form.get("seat"):
                service.hold_seats(
                    tx,
                    tenant=visit.tenant,
                    cart_id=cart_id,
                    event_id=event_id,
                    seat_ids=seat_ids_of(form),
                    price_by_rank=prices_of(form),
                    hold_minutes=settings.cart_hold_minutes,
                )
                count = len(set(form["seat"]))
            else:
                counts = counts_of(form)
                service.hold_best(
                    tx,
                    tenant=visit.tenant,
                    cart_id=cart_id,
                    event_id=event_id,
                    counts=counts,
                    hold_minutes=settings.cart_hold_minutes,
                )
                count = sum(counts.values())
    except (Conflict, InvalidInput) as exc:
        return _event_page(
            engine, visit, event_id, problem=problem_text(visit, exc), status=exc.status_code
        )
    holder = visit.with_cart(cart_id)
    return redirect(holder, holder.link(f"/event/{event_id}", added=str(count)))


@router.post(SHOP + "/event/{event_id}")
async def hold(
    request: Request,
    tenant: PublicTenant,
    engine: AppEngine,
    settings: AppSettings,
    event_id: EventId,
) -> Response:
    """The event page's forms: `seat` (each chosen seat's id) with `price-<rank id>`, or
    `qty-<ticket type>` counts for the best available places."""
    return await _posted(
        request, tenant, lambda visit, form: _hold(engine, settings, visit, event_id, form)
    )


def _cart_page(engine: Engine, visit: Visit, status: int = 200) -> Response:
    now = now_micros()
    with read_transaction(engine) as conn:
        cart = service.find_cart(conn, tenant=visit.tenant, cart_id=visit.cart_id, now=now)
    view = cart.cart.view
    seconds = 0
    if cart.state == "open" and view is not None:
        seconds = max(0, (int(view.cart["expires_at"]) - now) // MICROS_PER_SECOND)
    return render(
        visit,
        "cart.html",
        basket=_basket(cart),
        status=status,
        found=cart,
        seconds_left=seconds,
    )


@router.get(SHOP + "/cart")
def cart(request: Request, tenant: PublicTenant, engine: AppEngine) -> Response:
    return _cart_page(engine, visit_of(request, tenant))


def _remove(engine: Engine, settings: Settings, visit: Visit, form: Form) -> Response:
    item = str(form.get("item", ""))
    if visit.cart_id is None or not item.isdigit() or not 0 < int(item) <= 2**31 - 1:
        raise InvalidInput.field("item", "No such ticket in the cart.")
    with write_transaction(engine) as tx:
        service.remove_ticket(
            tx,
            tenant=visit.tenant,
            cart_id=visit.cart_id,
            item_id=int(item),
            hold_minutes=settings.cart_hold_minutes,
        )
    return redirect(visit, visit.link("/cart"))


@router.post(SHOP + "/cart/remove")
async def remove(
    request: Request, tenant: PublicTenant, engine: AppEngine, settings: AppSettings
) -> Response:
    """Remove one ticket (`item`) from the cart and release its place."""
    return await _posted(
        request, tenant, lambda visit, form: _remove(engine, settings, visit, form)
    )


def _restart(engine: Engine, settings: Settings, visit: Visit) -> Response:
    with write_transaction(engine) as tx:
        cart_id = service.restart(tx, tenant=visit.tenant, hold_minutes=settings.cart_hold_minutes)
    fresh = visit.with_cart(cart_id)
    return redirect(fresh, fresh.link(""))


@router.post(SHOP + "/cart/restart")
async def restart(
    request: Request, tenant: PublicTenant, engine: AppEngine, settings: AppSettings
) -> Response:
    """Start again with a new, empty cart (after the old one expired)."""
    return await _posted(request, tenant, lambda visit, _form: _restart(engine, settings, visit))


def _checkout_page(
    engine: Engine,
    visit: Visit,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> Response:
    now = now_micros()
    with read_transaction(engine) as conn:
        cart = service.find_cart(conn, tenant=visit.tenant, cart_id=visit.cart_id, now=now)
        methods = service.payment_methods(conn, tenant=visit.tenant)
    if _basket(cart) == 0:
        # Nothing to pay for (empty, expired or ordered already): the cart page says which.
        return redirect(visit, visit.link("/cart"))
    return render(
        visit,
        "checkout.html",
        basket=_basket(cart),
        status=status,
        found=cart,
        methods=methods,
        values=values or {},
        errors=errors or {},
        problem=problem,
    )


@router.get(SHOP + "/checkout")
def checkout(request: Request, tenant: PublicTenant, engine: AppEngine) -> Response:
    return _checkout_page(engine, visit_of(request, tenant))


def _order_base(request: Request, tenant: Tenant) -> str:
    return f"{origin(request)}/{tenant.name}/shop/order"


def _place(
    engine: Engine, settings: Settings, visit: Visit, form: Form, base: str, back: str
) -> Response:
    fields = buyer_fields(form)
    try:
        body = OrderCreateInput.model_validate(
            {**fields, "cart_id": visit.cart_id or "-", "redirectURL": back}
        )
    except ValidationError as exc:
        errors = checkout_errors(visit, exc)
        problem = visit.gettext("Please correct the fields marked below.")
        return _checkout_page(
            engine, visit, values=fields, errors=errors, problem=problem, status=422
        )
    try:
        with write_transaction(engine) as tx:
            placed = service.place_order(
                tx,
                tenant=visit.tenant,
                body=body,
                base=base,
                reservation_minutes=settings.reservation_minutes,
            )
    except (Conflict, InvalidInput) as exc:
        return _checkout_page(
            engine,
            visit,
            values=fields,
            problem=problem_text(visit, exc),
            status=exc.status_code,
        )
    if placed is None:
        return _cart_page(engine, visit, status=410)
    # The cart is an order now: the next visit starts a new one.
    # The payment page speaks the shop's language (its own URL carries no cookie of ours).
    return redirect(visit.with_cart(None), f"{placed.url}?{urlencode({'lang': visit.language})}")


@router.post(SHOP + "/checkout")
async def place(
    request: Request, tenant: PublicTenant, engine: AppEngine, settings: AppSettings
) -> Response:
    """Place the cart as an order of the buyer, and go to the payment method's page."""
    base, shop = public_base(request, tenant), _order_base(request, tenant)
    return await _posted(
        request,
        tenant,
        lambda visit, form: _place(
            engine, settings, visit, form, base, f"{shop}?lang={visit.language}"
        ),
    )


@router.get(SHOP + "/order")
def order_return(request: Request, tenant: PublicTenant) -> Response:
    """Where the payment sends the buyer back (`?return=<order key>`): on to its page."""
    visit = visit_of(request, tenant)
    key = request.query_params.get("return", "")
    if not key or len(key) > 64:
        raise InvalidInput.field("return", "No order named.")
    return redirect(visit, visit.link(f"/order/{quote(key, safe='-')}"))


@router.get(SHOP + "/order/{order_key}")
def order(
    request: Request, tenant: PublicTenant, engine: AppEngine, order_key: OrderKey
) -> Response:
    """The order's confirmation: its tickets and, once paid, the PDF and the receipt."""
    visit = visit_of(request, tenant)
    now = now_micros()
    with read_transaction(engine) as conn:
        confirmation = service.get_confirmation(conn, tenant=tenant, order_key=order_key, now=now)
        cart = service.find_cart(conn, tenant=tenant, cart_id=visit.cart_id, now=now)
    base = public_base(request, tenant)
    provider = str(confirmation.found.payment["provider"])
    return render(
        visit,
        "order.html",
        basket=_basket(cart),
        headers=ORDER_HEADERS,
        confirmation=confirmation,
        order_key=order_key,
        tickets_url=f"{base}/order/{order_key}/tickets",
        receipt_url=f"{base}/order/{order_key}/receipt",
        pay_url=f"{base}/pay/{provider}/{order_key}?{urlencode({'lang': visit.language})}",
    )


@router.get(SHOP + "/static/{name}")
def static(tenant: PublicTenant, name: Annotated[str, Path(max_length=64)]) -> Response:
    """The shop's own CSS, script and images (nothing is loaded from elsewhere)."""
    content, media_type = static_file(name)
    return Response(content, media_type=media_type, headers={"Cache-Control": "max-age=3600"})


@router.get(POSTERS_PATH + "/{name}.svg")
def poster(name: str) -> Response:
    """A poster drawn by the app (posters.py): a catalog's `image` may point here."""
    return Response(
        poster_svg(name),
        media_type="image/svg+xml",
        headers={"Cache-Control": "max-age=86400", "X-Content-Type-Options": "nosniff"},
    )
