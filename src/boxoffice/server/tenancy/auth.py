"""Authentication: every request under /v1/{client}/peppered/ is checked before it is answered.

It runs as ASGI middleware, ahead of routing, so that every failure (no key, bad key,
revoked key, another client's key, unknown client, unknown path) gets the same 401 and
the answer never reveals whether a client or a route exists.

A key that cannot be right (none, malformed, a client name no client can have) is refused
at once. A well-formed key is looked up in the database on every request (a revoked key
fails on the very next one), in a worker thread, and the lookup shares the route's own
thread hop: the route's `tenant` comes out of it, so the route never runs for a key that
failed, and a request makes one hop to the thread pool instead of two. On PostgreSQL a
route whose first work is a write transaction (`threadpool.writes_first`) has its key read
in that transaction's first round trip, with its BEGIN and write barrier, and nothing more
runs in it unless the key passes; a route whose first work is a read (`threadpool.reads_first`)
has its key read in that read's round trip once this app has verified the same key before
(`KnownKeys`): the read is made for the client the key belonged to then, its rows reach the
route only once the key has passed, and the route runs again if the key's row has changed
since (`KeyCheck._ride`); any other route's first read takes the connection the key was
read on, not a second one of the same pool (`KeyCheck._run_with`). A request answered
before its route runs (an unknown path, a body that does not validate or is too large, an
error) has its key checked before that answer's first byte is sent, and gets the 401
instead when the key fails: no answer but the 401 ever leaves for a key that failed.
"""

import base64
import binascii
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from sqlalchemy import Engine
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.server.db.engine import is_sqlite
from boxoffice.server.errors import AppError, Unauthenticated
from boxoffice.server.paths import PEPPERED_PATH
from boxoffice.server.responses import error_response
from boxoffice.server.tenancy import repository
from boxoffice.server.tenancy.keys import hash_key, key_prefix, verify_hashed
from boxoffice.server.tenancy.principal import authenticate_principal, principal_of
from boxoffice.server.tenancy.service import CLIENT_NAME, Tenant, VerifiedKey
from boxoffice.server.threadpool import (
    FirstWork,
    Rerun,
    reads_request,
    reset_route_prelude,
    run_in_thread,
    set_route_prelude,
)

# Run after a key is verified, in the same worker thread (ops: the key's rate limit): the
# headers it returns go on the response; an AppError it raises (a 429) answers instead.
Admit = Callable[[Scope], dict[str, str]]

# What a route's `tenant` is until the key check in the route's own thread replaces it with
# the verified client. Its id belongs to no client: were it ever used in a query, that
# query would find nothing (every query is scoped to its tenant), never another's rows.
DEFERRED_TENANT = Tenant(id=0, name="", timezone=ZoneInfo("UTC"))


def presented_key(authorization: str | None) -> str | None:
    """The key from `Authorization`: raw, `Bearer <key>`, or Basic with the key as user name."""
    if not authorization:
        return None
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() == "bearer":
        return rest.strip() or None
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(rest.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            # ValueError: non-ASCII characters in the base64 text (UnicodeDecodeError is one).
            return None
        user, _, _password = decoded.partition(":")
        return user or None
    return authorization.strip() if not rest else None


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _well_formed(client_name: str, authorization: str | None) -> tuple[str, str] | None:
    """The key and its prefix, when the key and the client name could be right at all."""
    key = presented_key(authorization)
    prefix = key_prefix(key) if key else None
    if key is None or prefix is None or not CLIENT_NAME.match(client_name):
        return None
    return key, prefix


def _tenant(client_name: str, found: repository.ActiveKey) -> Tenant:
    return Tenant(id=found.tenant_id, name=client_name, timezone=_zone(found.timezone))


def _verified(
    client_name: str, key_hash: str, prefix: str, found: repository.ActiveKey | None
) -> VerifiedKey:
    """The key (its hash) verified against what the lookup found of it, or Unauthenticated."""
    if found is None or not verify_hashed(key_hash, found.key_hash):
        raise Unauthenticated()
    return VerifiedKey(_tenant(client_name, found), prefix, found.per_minute)


class KnownKeys:
    """What the lookup found of the keys an app verified lately, by client name and prefix
    (the stored hash, the client, its zone, the rate limit): a read route's key check may
    ride along with the route's read, made for the client found last time
    (`KeyCheck._ride`). Only a key that passed is kept, at most `size` of them, the one
    kept longest forgotten first; a key refused is forgotten. Every request still reads its
    key afresh: this only says which client to read for while that read is on its way."""

    def __init__(self, size: int = 1024) -> None:
        self._size = size
        self._found: dict[tuple[str, str], repository.ActiveKey] = {}
        self._lock = threading.Lock()

    def get(self, client_name: str, prefix: str) -> repository.ActiveKey | None:
        return self._found.get((client_name, prefix))

    def remember(self, client_name: str, prefix: str, found: repository.ActiveKey) -> None:
        if self._found.get((client_name, prefix)) == found:
            return  # every request of a known key: nothing to change
        with self._lock:
            self._found.pop((client_name, prefix), None)
            if len(self._found) >= self._size:
                del self._found[next(iter(self._found))]
            self._found[(client_name, prefix)] = found

    def forget(self, client_name: str, prefix: str) -> None:
        with self._lock:
            self._found.pop((client_name, prefix), None)


@dataclass(slots=True, eq=False)
class KeyCheck:
    """One request's key check: the lookup, then `admit` (the key's rate limit). It blocks,
    so it runs in a worker thread: the route's (as its prelude) or, when the request is
    answered before its route runs, one of its own."""

    engine: Engine
    client_name: str
    # The presented key and its prefix, well-formed (`_well_formed`: the middleware refuses
    # any other before a check is made). The key is a secret: never in a repr.
    key: str = field(repr=False)
    prefix: str
    scope: Scope
    admit: Admit | None
    # The keys the app verified lately (None: none kept, no key check rides along).
    known: KnownKeys | None = None
    tenant: Tenant | None = None
    # The 401 or 429 that answers the request instead, once the check has refused it.
    refusal: AppError | None = None
    # Whether the refusal was raised in the route's thread, so that the app's error handler
    # renders it as the answer (and nothing of the route ran).
    refused_in_route: bool = False
    # Response headers of the admitted request (RateLimit-*).
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    # The key's hash, once computed (`_key_hash`): compared with what the app found of the
    # key before and with what its lookup finds now, it is computed once a request.
    _hashed: str | None = field(default=None, init=False, repr=False)

    def _key_hash(self) -> str:
        if self._hashed is None:
            self._hashed = hash_key(self.key)
        return self._hashed

    @property
    def settled(self) -> bool:
        return self.tenant is not None or self.refusal is not None

    def run(self) -> None:
        """Check the key once; a database error is raised and leaves it unsettled."""
        if not self.settled:
            self._run_with(repository.find_active_key)

    def _settle(self, found: repository.ActiveKey | None) -> None:
        """The key verified against what its lookup `found`, then admitted; or the refusal
        of either."""
        try:
            verified = _verified(self.client_name, self._key_hash(), self.prefix, found)
        except AppError as refusal:
            self.refusal = refusal
            if self.known is not None:
                self.known.forget(self.client_name, self.prefix)
            return
        assert found is not None  # verified
        if self.known is not None:
            self.known.remember(self.client_name, self.prefix, found)
        try:
            authenticate_principal(self.scope, verified)
            if self.admit is not None:
                extra = self.admit(self.scope)
                self.headers = [(k.lower().encode(), v.encode()) for k, v in extra.items()]
        except AppError as refusal:
            self.refusal = refusal
            return
        self.tenant = verified.tenant

    def _run_with(self, lookup: repository.KeyLookup) -> Callable[[], None] | None:
        """Check the key with its lookup made by `lookup`, which also returns what to call
        once the route is done: on its own (`find_active_key`, the key of a request
        answered before its route); a write route's on PostgreSQL in the first round trip
        of the route's write transaction, opened now (the BEGIN, the key, the write
        barrier), which the route's write_transaction takes (refused, it is rolled back
        here; the route did not take it, once it is done); any other route's keeping the
        lookup's connection for the route's first read (`DriverRead.first_kept`). The
        lookup is the same statement, afresh on every request (a revoked key fails on the
        very next one), and nothing of the route runs unless the key passes. What to call
        once the route is done, or None (refused)."""
        found, done = lookup(self.engine, client_name=self.client_name, prefix=self.prefix)
        try:
            self._settle(found)
        except BaseException:
            done()
            raise
        if self.refusal is not None:
            done()
            return None
        return done

    def _ride(self, assumed: repository.ActiveKey) -> Callable[[], None]:
        """PostgreSQL: the key's lookup sent with the route's first read, in its round trip
        (`repository.ride_active_key`), the read made for the client `assumed` (what the
        lookup found of this key last time, which it passed). Before the read's rows reach
        the route the key is settled on what the lookup finds now: refused, the refusal is
        raised (the route answers it, nothing of the read goes anywhere); passed but not
        as `assumed` (the key's client, zone or limit changed since), `Rerun` has the route
        run again for the client found now. What to call once the route is done."""

        def settle(found: repository.ActiveKey | None) -> None:
            self._settle(found)
            if self.refusal is not None:
                self.refused_in_route = True
                raise self.refusal
            if found != assumed:
                raise Rerun()

        return repository.ride_active_key(
            self.engine, client_name=self.client_name, prefix=self.prefix, settle=settle
        )

    def _assumed(self) -> repository.ActiveKey | None:
        """What the key's lookup found last time, when the app verified this very key
        before (`KnownKeys`)."""
        if self.known is None:
            return None
        found = self.known.get(self.client_name, self.prefix)
        if found is None or not verify_hashed(self._key_hash(), found.key_hash):
            return None
        return found

    def before_route(
        self, arguments: dict[str, Any], first: FirstWork = None
    ) -> Callable[[], None] | None:
        """The route's prelude: check the key, then give the route its tenant (or refuse).
        On PostgreSQL, by what the route does first with the database (`first`): a write
        transaction, the key is read in its first round trip; a read, in the read's round
        trip (`_ride`) when the app verified the same key before; else the route's first
        read takes the connection the key was read on (`_run_with`). What it returns is
        called once the route is done."""
        done = None
        if not self.settled:
            postgres = not is_sqlite(self.engine)
            assumed = self._assumed() if first == "reads" and postgres else None
            if assumed is not None:
                done = self._ride(assumed)
                self._give(arguments, _tenant(self.client_name, assumed))
                return done
            ahead = first == "writes" and postgres
            lookup = repository.find_active_key_ahead if ahead else repository.find_active_key_kept
            done = self._run_with(lookup)
        if self.refusal is not None:
            self.refused_in_route = True
            raise self.refusal
        assert self.tenant is not None  # settled, not refused
        self._give(arguments, self.tenant)
        return done

    @staticmethod
    def _give(arguments: dict[str, Any], tenant: Tenant) -> None:
        """The route's tenant arguments (DEFERRED_TENANT until now) set to `tenant`."""
        for name, value in arguments.items():
            if value is DEFERRED_TENANT:
                arguments[name] = tenant


class AuthenticationMiddleware:
    """Resolves the tenant of every API request, or answers 401 itself.

    `admit` runs after a key is verified, in the same thread: the key's rate limit (ops),
    which refuses with the 429 it raises and otherwise gives headers for the response.
    """

    def __init__(self, app: ASGIApp, engine: Engine, admit: Admit | None = None) -> None:
        self.app = app
        self.engine = engine
        self.admit = admit
        self.known = KnownKeys()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = PEPPERED_PATH.match(scope["path"]) if scope["type"] == "http" else None
        if match is None:
            await self.app(scope, receive, send)
            return
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        well_formed = _well_formed(match.group(1), authorization)
        if well_formed is None:
            await error_response(Unauthenticated())(scope, receive, send)
            return
        key, prefix = well_formed
        check = KeyCheck(
            self.engine, match.group(1), key, prefix, scope, self.admit, known=self.known
        )
        scope.setdefault("state", {})["key_check"] = check
        started = False
        replaced = False

        async def refuse_instead() -> None:
            nonlocal started, replaced
            assert check.refusal is not None
            started = replaced = True
            await error_response(check.refusal)(scope, receive, send)

        async def checked_send(message: Message) -> None:
            nonlocal started
            if replaced:
                return  # the rest of an answer that the refusal replaced
            if message["type"] == "http.response.start":
                if not check.settled:
                    # Answered before the route ran: the key is checked first.
                    await run_in_thread(check.run)
                if check.tenant is None and not check.refused_in_route:
                    await refuse_instead()
                    return
                if check.refusal is not None and message["status"] != check.refusal.status_code:
                    # Refused in the route, whose answer is not the refusal's (it caught it).
                    await refuse_instead()
                    return
                if check.headers:
                    headers = [*message.get("headers", ()), *check.headers]
                    message = {**message, "headers": headers}
                started = True
            await send(message)

        token = set_route_prelude(check.before_route)
        try:
            await self.app(scope, receive, checked_send)
        except Exception as exc:
            # Raised before the route ran (a body over the limit, an error): the key first.
            if started:
                raise
            if not check.settled:
                await run_in_thread(check.run)
            if check.tenant is not None or check.refused_in_route:
                raise
            await refuse_instead()
            if not isinstance(exc, HTTPException):
                raise  # the server logs the error; the client has its 401
        finally:
            reset_route_prelude(token)


@reads_request
async def current_tenant(request: Request) -> Tenant:
    """FastAPI dependency: the client whose key authenticated this request (async: it only
    reads the scope, so it runs in the event loop instead of a thread-pool hop).

    Until the key check has run it is DEFERRED_TENANT, which the check, run first in the
    route's thread, replaces in the route's arguments."""
    tenant = principal_of(request.scope).tenant
    if tenant is not None:
        return tenant
    check = request.scope.get("state", {}).get("key_check")
    if isinstance(check, KeyCheck) and not check.settled:
        return DEFERRED_TENANT
    raise Unauthenticated()


CurrentTenant = Annotated[Tenant, Depends(current_tenant)]
