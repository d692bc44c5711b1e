"""The ticket host's routes of an embedded shop: the visitor's session and basket count
(/api/{client}/...), and the loader scripts (/{client}/iframes/...)."""

from typing import Annotated

from fastapi import Path, Query, Request, Response

from boxoffice.server.db.transactions import read_transaction, write_transaction
from boxoffice.server.deps import AppEngine, HoldMinutes
from boxoffice.server.embed import service
from boxoffice.server.embed.schemas import SessionResource
from boxoffice.server.embed.scripts import SCRIPTS
from boxoffice.server.errors import InvalidInput, Responses
from boxoffice.server.lenient import api_router
from boxoffice.server.public.cart_resources import public_cart_resource
from boxoffice.server.public.errors import UNKNOWN, PublicNotFound
from boxoffice.server.public.order_schemas import CartArray
from boxoffice.server.public.tenancy import PublicTenant
from boxoffice.server.responses import json_response
from boxoffice.server.values.clock import now_micros

api = api_router(tags=["embedded shop"])
scripts = api_router(tags=["embedded shop"])

# A session (cart) belongs to one visitor: no shared cache keeps it.
_NO_STORE = {"Cache-Control": "no-store"}
# The scripts change only with a new release; browsers ask again after an hour (and get a
# 304 while the ETag matches).
_SCRIPT_HEADERS = {"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"}
_UNKNOWN_CLIENT = PublicNotFound.documented("No such client.")
_SCRIPT_RESPONSES: Responses = {
    200: {"content": {"text/javascript": {}}, "description": "The script."},
    304: {"description": "The script has not changed (If-None-Match)."},
}


_BAD_TOKEN = InvalidInput.documented("The token is missing, empty, too long or not visible ASCII.")


@api.get("/get-session", response_model=SessionResource, responses=_UNKNOWN_CLIENT | _BAD_TOKEN)
def get_session(
    tenant: PublicTenant,
    engine: AppEngine,
    hold_minutes: HoldMinutes,
    token: Annotated[str | None, Query(description="The visitor's own random token.")] = None,
) -> Response:
    """The visitor's session id, a cart of the public API: the same for the same token while
    that cart lives (not ordered, not expired), then a new one."""
    with write_transaction(engine) as tx:
        session_id = service.session_for(tx, tenant=tenant, token=token, hold_minutes=hold_minutes)
    return json_response({"session_id": session_id}, headers=_NO_STORE)


@api.get("/cart/{session_id}", response_model=CartArray, responses=_UNKNOWN_CLIENT)
def get_basket(
    tenant: PublicTenant, engine: AppEngine, session_id: Annotated[str, Path(max_length=64)]
) -> Response:
    """The session's cart as the public API shows it (its length minus one is the number of
    tickets); `[{"cart": 0}]` for an empty, expired, ordered or unknown session."""
    with read_transaction(engine) as conn:
        cart = service.basket(conn, tenant=tenant, session_id=session_id, now=now_micros())
        body = public_cart_resource(cart, tenant.timezone)
    return json_response(body, headers=_NO_STORE)


@scripts.get(
    "/{script_name}",
    response_class=Response,
    responses=_SCRIPT_RESPONSES | PublicNotFound.documented("No such client or script."),
)
def get_script(
    tenant: PublicTenant,
    request: Request,
    script_name: Annotated[str, Path(description="vdm_loader.js or vdm_sideloader.js")],
) -> Response:
    """`vdm_loader.js` (the shop full screen) or `vdm_sideloader.js` (in a side panel): each
    defines `vdm_order(event_id, session_id)` for the page that loads it."""
    script = SCRIPTS.get(script_name)
    if script is None:
        raise PublicNotFound(UNKNOWN)
    headers = {**_SCRIPT_HEADERS, "ETag": script.etag}
    if request.headers.get("if-none-match") == script.etag:
        return Response(status_code=304, headers=headers)
    return Response(script.body, media_type="text/javascript; charset=utf-8", headers=headers)
