"""Payment rules: placing a public order, settling its payment, releasing unpaid reservations.

An order placed through the public API (`POST /order/create`) is a reservation (`res`)
while its provider collects the money: its places stay claimed until `expires_at`, and the
moment that passes they are free for other buyers (the claims expire with it). The order
itself turns `cancel` when the expiry is next swept (`release_expired`, run by every
public cart and order write of the client). Paying in time makes it a paid `ord`.
"""

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from sqlalchemy import Connection, RowMapping

from boxoffice.server.carts import service as carts
from boxoffice.server.carts.schemas import CheckoutInput
from boxoffice.server.catalog import service as catalog
from boxoffice.server.customers import service as customers
from boxoffice.server.db.transactions import Tx
from boxoffice.server.errors import Conflict, InvalidInput, NotFound
from boxoffice.server.orders import service as orders
from boxoffice.server.orders.service import OrderDetail
from boxoffice.server.payments import repository
from boxoffice.server.payments.providers import (
    Outcome,
    PaymentProvider,
    PaymentStart,
    get_provider,
)
from boxoffice.server.tenancy.service import Tenant
from boxoffice.server.tickets import service as tickets

MICROS_PER_MINUTE = 60_000_000
# Expired reservations released per sweep; the next sweep takes the rest.
SWEEP_LIMIT = 100
CURRENCY = "EUR"


def hash_order_key(order_key: str) -> str:
    return hashlib.sha256(order_key.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Buyer:
    """The customer fields of POST /order/create, as `customers` columns."""

    email: str
    first_name: str | None
    last_name: str
    phone: str | None
    address: str | None
    city: str | None
    zip: str | None


@dataclass(frozen=True, slots=True)
class OrderRequest:
    cart_id: str
    payment_method_id: int
    redirect_url: str
    buyer: Buyer
    optin: bool
    mailinglist: bool


@dataclass(frozen=True, slots=True)
class PaymentUrls:
    """Boxoffice's own URLs for one payment, made by the routes from the request's base."""

    page: str
    callback: str


# Makes a payment's page and callback URLs from its provider's name and its order key (the
# routes know the request's base URL).
UrlMaker = Callable[[str, str], PaymentUrls]


@dataclass(frozen=True, slots=True)
class PlacedOrder:
    url: str
    order_key: str


@dataclass(frozen=True, slots=True)
class PublicOrder:
    """An order found by its key: its payment and everything the public views render."""

    payment: RowMapping
    detail: OrderDetail


def with_return(redirect_url: str, order_key: str) -> str:
    """The venue's URL with `return=<order key>` added to its query."""
    parts = urlsplit(redirect_url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "return"]
    query.append(("return", order_key))
    return urlunsplit(parts._replace(query=urlencode(query)))


def _payment_method(conn: Connection, tenant: Tenant, payment_method_id: int) -> RowMapping:
    try:
        method = catalog.get_payment_method(
            conn, tenant=tenant, payment_method_id=payment_method_id
        )
    except InvalidInput:
        raise InvalidInput.field(
            "payment_id", f"Payment method {payment_method_id} does not exist."
        ) from None
    if not method["online"]:
        raise InvalidInput.field(
            "payment_id", f"Payment method {payment_method_id} is not offered online."
        )
    return method


def _customer_id(tx: Tx, tenant: Tenant, buyer: Buyer) -> int:
    """The customer with the buyer's email (case-insensitive), created when new.

    An existing customer is linked as it is: an unauthenticated request never changes a
    customer's record (anyone can type someone else's email address).
    """
    for _attempt in range(2):
        try:
            found = customers.find_customer_by_email(
                tx.conn, tenant_id=tenant.id, email=buyer.email
            )
            return int(found.row["id"])
        except NotFound:
            pass
        fields: dict[str, Any] = {
            "email": buyer.email,
            "first_name": buyer.first_name,
            "last_name": buyer.last_name,
            "phone": buyer.phone,
            "address": buyer.address,
            "city": buyer.city,
            "zip": buyer.zip,
        }
        try:
            created = customers.create_customer(tx, tenant_id=tenant.id, fields=fields)
            return int(created.row["id"])
        except InvalidInput:
            # Created concurrently with the same email: link to that one.
            continue
    raise Conflict("The customer could not be created; please try again.")


def place_order(
    tx: Tx,
    *,
    tenant: Tenant,
    request: OrderRequest,
    reservation_minutes: int,
    urls_of: UrlMaker,
) -> PlacedOrder | None:
    """Check the cart out into an order of the buyer, and start its payment.

    A provider that `reserves` makes the order a reservation for `reservation_minutes`;
    `invoice` places a regular unpaid order. None when the cart expired meanwhile (its
    holds are released; the caller commits that and answers 410).
    """
    release_expired(tx, tenant=tenant)
    # A missing or expired cart is refused before anything is written.
    carts.get_cart(tx.conn, tenant=tenant, cart_id=request.cart_id, now=tx.now)
    method = _payment_method(tx.conn, tenant, request.payment_method_id)
    provider = get_provider(method["provider"])
    if provider is None:
        raise InvalidInput.field(
            "payment_id",
            f"Payment method {request.payment_method_id} uses provider "
            f"{method['provider']!r}, which this server does not have.",
        )
    customer_id = _customer_id(tx, tenant, request.buyer)
    reserve_until = tx.now + reservation_minutes * MICROS_PER_MINUTE if provider.reserves else None
    placed = carts.check_out(
        tx,
        tenant=tenant,
        cart_id=request.cart_id,
        request=CheckoutInput.model_validate(
            {
                "customerId": customer_id,
                "paymentMethodId": request.payment_method_id,
                "orderChannel": "www",
            }
        ),
        reserve_until=reserve_until,
    )
    if placed is None:
        return None
    order = placed.order
    order_key = str(order["order_key"])
    tickets.issue_secrets(
        tx, tenant_id=tenant.id, order_seat_ids=[int(s["id"]) for s in placed.seats]
    )
    urls = urls_of(provider.name, order_key)
    started = provider.start(
        PaymentStart(
            order_key=order_key,
            amount_cents=int(order["amount_cents"]),
            currency=CURRENCY,
            description=f"{tenant.name} order {order_key}",
            page_url=urls.page,
            callback_url=urls.callback,
            return_url=with_return(request.redirect_url, order_key),
        )
    )
    repository.insert_payment(
        tx.conn,
        tenant_id=tenant.id,
        values={
            "order_id": int(order["id"]),
            "order_key_hash": hash_order_key(order_key),
            "provider": provider.name,
            "state": "open",
            "redirect_url": request.redirect_url,
            "provider_reference": started.reference,
            "optin": request.optin,
            "mailinglist": request.mailinglist,
            "expires_at": reserve_until,
        },
        now=tx.now,
    )
    return PlacedOrder(url=started.url, order_key=order_key)


def release_expired(tx: Tx, *, tenant: Tenant) -> int:
    """Cancel the client's reservations whose time ran out (their places are free already:
    the claims expired with them); returns how many were released."""
    expired = repository.lock_expired_payments(
        tx.conn, tenant_id=tenant.id, now=tx.now, limit=SWEEP_LIMIT
    )
    for payment in expired:
        orders.release_reservation(tx, tenant_id=tenant.id, order_id=int(payment["order_id"]))
        repository.update_payment(
            tx.conn,
            tenant_id=tenant.id,
            payment_id=int(payment["id"]),
            values={"state": "expired", "settled_at": tx.now},
        )
    return len(expired)


def _find_payment(conn: Connection, tenant: Tenant, order_key: str, *, lock: bool) -> RowMapping:
    # An order key is 23 characters; anything much longer is not one (and is not hashed).
    payment = (
        repository.get_payment_by_key_hash(
            conn, tenant_id=tenant.id, key_hash=hash_order_key(order_key), lock=lock
        )
        if 0 < len(order_key) <= 64
        else None
    )
    if payment is None:
        raise NotFound("Order")
    return payment


def find_order(conn: Connection, *, tenant: Tenant, order_key: str) -> PublicOrder:
    """The order with this key, placed through the public API of this client; else 404."""
    payment = _find_payment(conn, tenant, order_key, lock=False)
    detail = orders.get_order_detail(conn, tenant_id=tenant.id, order_id=int(payment["order_id"]))
    # The hash found it; the key itself is compared in constant time as well.
    if not hmac.compare_digest(str(detail.row["order_key"]).encode(), order_key.encode()):
        raise NotFound("Order")
    return PublicOrder(payment=payment, detail=detail)


def payment_state(payment: Mapping[Any, Any], now: int) -> str:
    """open, paid, cancelled or expired: an open payment past its time reads expired."""
    state = str(payment["state"])
    expires_at = payment["expires_at"]
    if state == "open" and expires_at is not None and expires_at <= now:
        return "expired"
    return state


class PaymentClosed(Conflict):
    def __init__(self, state: str) -> None:
        super().__init__(f"This payment is {state}; nothing more can be done with it.")


@dataclass(frozen=True, slots=True)
class Settled:
    """What happened on the payment page, and where the buyer goes next (None: stay)."""

    state: str
    redirect: str | None


def _provider_payment(
    tx: Tx, tenant: Tenant, order_key: str, provider_name: str
) -> tuple[PaymentProvider, RowMapping]:
    """The provider and the (locked) payment it took, after sweeping expired reservations."""
    release_expired(tx, tenant=tenant)
    payment = _find_payment(tx.conn, tenant, order_key, lock=True)
    provider = get_provider(provider_name)
    if provider is None or payment["provider"] != provider_name:
        raise NotFound("Order")
    return provider, payment


def settle(
    tx: Tx, *, tenant: Tenant, order_key: str, provider_name: str, fields: Mapping[str, str]
) -> Settled:
    """Apply the provider's callback (for `test`: the buyer's choice on its page)."""
    provider, payment = _provider_payment(tx, tenant, order_key, provider_name)
    return _apply(tx, tenant, payment, order_key, provider.handle_callback(fields))


def refresh(tx: Tx, *, tenant: Tenant, order_key: str, provider_name: str) -> Settled:
    """Ask the provider for the payment's status and apply it: for a buyer who comes back
    from the provider before its callback arrived. An open payment that the provider still
    calls open is left as it is."""
    provider, payment = _provider_payment(tx, tenant, order_key, provider_name)
    state = payment_state(payment, tx.now)
    if state != "open":
        return Settled(state=state, redirect=None)
    outcome = provider.check_status(payment["provider_reference"])
    if outcome is Outcome.OPEN:
        return Settled(state="open", redirect=None)
    return _apply(tx, tenant, payment, order_key, outcome)


def _apply(
    tx: Tx, tenant: Tenant, payment: RowMapping, order_key: str, outcome: Outcome
) -> Settled:
    """Paid: the reservation becomes a paid order (through the orders service); cancelled:
    it is released. An expired reservation is released and reported `expired` (and
    committed: the caller answers 410 after the commit)."""
    redirect = with_return(str(payment["redirect_url"]), order_key)
    state = payment_state(payment, tx.now)
    order_id = int(payment["order_id"])
    if state == "paid" and outcome is Outcome.PAID:
        return Settled(state="paid", redirect=redirect)  # paid twice: the same answer
    if state == "expired":
        orders.release_reservation(tx, tenant_id=tenant.id, order_id=order_id)
        _close(tx, tenant, payment, "expired")
        return Settled(state="expired", redirect=None)
    if state != "open":
        raise PaymentClosed(state)
    if outcome is Outcome.PAID:
        # 410 (orders.ReservationExpired) when a place was taken as expired meanwhile.
        orders.confirm_reservation(tx, tenant_id=tenant.id, order_id=order_id)
        _close(tx, tenant, payment, "paid")
        return Settled(state="paid", redirect=redirect)
    if outcome is Outcome.CANCELLED:
        orders.release_reservation(tx, tenant_id=tenant.id, order_id=order_id)
        _close(tx, tenant, payment, "cancelled")
        return Settled(state="cancelled", redirect=redirect)
    return Settled(state="open", redirect=None)


def _close(tx: Tx, tenant: Tenant, payment: RowMapping, state: str) -> None:
    repository.update_payment(
        tx.conn,
        tenant_id=tenant.id,
        payment_id=int(payment["id"]),
        values={"state": state, "settled_at": tx.now},
    )
