"""Visitor sessions of embedded shops, and the basket count a venue's page shows.

A session is a cart of the public API (a session id IS a cart id), found by the hash of the
visitor's token. It lives as long as its cart: until an order is placed from it, it is
emptied for good, or its hold runs out (`BOXOFFICE_CART_HOLD_MINUTES` after its last
change). Then the same token gets a new session: a new, empty cart.
"""

import hashlib
import re

from sqlalchemy import Connection, RowMapping

from boxoffice.server.carts import service as carts
from boxoffice.server.carts.service import CartExpired
from boxoffice.server.db.transactions import Tx
from boxoffice.server.embed import repository
from boxoffice.server.errors import Conflict, InvalidInput, NotFound
from boxoffice.server.public import cart_service
from boxoffice.server.public.cart_service import PublicCart
from boxoffice.server.tenancy.service import Tenant

# The WordPress plugin's tokens are 32 hexadecimal characters; any visible ASCII will do.
MAX_TOKEN_LENGTH = 128
_TOKEN = re.compile(r"[\x21-\x7e]+")
# A token's row is deleted after a week without a get-session (its cart is long gone).
UNUSED_SESSION_MICROS = 7 * 24 * 3_600_000_000


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def checked_token(token: str | None) -> str:
    """The token as given, or a 422 that says what is wrong with it."""
    if not token:
        raise InvalidInput.field(
            "token", "The token query parameter is required: the visitor's own random token."
        )
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidInput.field(
            "token", f"The token is too long: at most {MAX_TOKEN_LENGTH} characters."
        )
    if not _TOKEN.fullmatch(token):
        raise InvalidInput.field(
            "token", "The token may hold only visible ASCII characters (no spaces)."
        )
    return token


def _cart_is_live(conn: Connection, tenant: Tenant, cart_id: str, now: int) -> bool:
    try:
        carts.get_cart(conn, tenant=tenant, cart_id=cart_id, now=now)
    except (NotFound, CartExpired):
        return False
    return True


def _new_cart(tx: Tx, tenant: Tenant, hold_minutes: int) -> str:
    return cart_service.create_cart(tx, tenant=tenant, hold_minutes=hold_minutes)


def _renewed(tx: Tx, tenant: Tenant, session: RowMapping, hold_minutes: int) -> str:
    """The session's cart while it is live, else a new one in its place."""
    cart_id = str(session["cart_id"])
    if not _cart_is_live(tx.conn, tenant, cart_id, tx.now):
        cart_id = _new_cart(tx, tenant, hold_minutes)
    repository.use_session(
        tx.conn, tenant_id=tenant.id, session_row_id=session["id"], cart_id=cart_id, now=tx.now
    )
    return cart_id


def session_for(tx: Tx, *, tenant: Tenant, token: str | None, hold_minutes: int) -> str:
    """The session id (cart id) of the visitor's token: the same while its cart is live."""
    hashed = token_hash(checked_token(token))
    session = repository.find_session(tx.conn, tenant_id=tenant.id, token_hash=hashed)
    if session is None:
        cart_id = _new_cart(tx, tenant, hold_minutes)
        if repository.insert_session(
            tx.conn, tenant_id=tenant.id, token_hash=hashed, cart_id=cart_id, now=tx.now
        ):
            repository.delete_sessions_unused_since(
                tx.conn, tenant_id=tenant.id, before=tx.now - UNUSED_SESSION_MICROS
            )
            return cart_id
        # A concurrent get-session of the same token made the session first: that one counts.
        carts.discard_cart(tx, tenant=tenant, cart_id=cart_id)
        session = repository.find_session(tx.conn, tenant_id=tenant.id, token_hash=hashed)
        if session is None:
            raise Conflict("The session changed while it was made; ask again.")
    return _renewed(tx, tenant, session, hold_minutes)


def basket(conn: Connection, *, tenant: Tenant, session_id: str, now: int) -> PublicCart:
    """The session's cart; an unknown, expired or checked-out session's basket is empty."""
    try:
        return cart_service.get_cart(conn, tenant=tenant, cart_id=session_id, now=now)
    except NotFound:
        return PublicCart(view=None, labels=None)
