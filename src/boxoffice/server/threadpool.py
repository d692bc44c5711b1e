"""The request path's thread pool: blocking work (database calls) off the event loop, cheaply.

Every API request used to make two hops through Starlette's `run_in_threadpool` (anyio's
worker threads): the key lookup, then the route. Each hop goes through a `queue.Queue` (a
Python-level lock and condition), a capacity limiter and a cancel scope. A
`concurrent.futures.ThreadPoolExecutor` hands the work over through a C-level
`SimpleQueue`: 33-47 us of CPU a hop instead of 56-57 at 8 in flight
(bench/threadhop_cost.py, docs/benchmarks.md).

What anyio guaranteed is kept: the caller's context variables are seen in the thread (the
request id of log lines), at most THREADS threads run at once (so many for the app's
database), and a cancelled caller still waits for its thread to finish, so no part of a
request outlives it.

A middleware may leave blocking work for the route's own hop (`set_route_prelude`): the
authentication's key check runs first in the route's thread, so that an API request makes
one hop, not two (tenancy/auth.py). What a route does first with the database
(`writes_first`, `reads_first`) lets the prelude send its work with the route's first round
trip; a prelude that assumed something its check then refutes has the route run again
(`Rerun`).

A route marked `on_loop` runs on the event loop in a greenlet instead (`GREEN`,
green.py): no hand-over between threads at all.

A dependency that only reads the request (`reads_request`: the app's engine and settings,
the request's tenant) is called by the route's endpoint itself, not solved by FastAPI.
"""

import asyncio
import contextvars
import functools
import inspect
import sys
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Annotated, Any, Literal, ParamSpec, TypeVar, get_args, get_origin

from fastapi import params
from starlette.requests import Request

from boxoffice.server import green

__all__ = [
    "DEFAULT_SWITCH_INTERVAL",
    "DEFAULT_THREADS",
    "GREEN",
    "GREENLETS",
    "SWITCH_INTERVALS",
    "THREADS",
    "FirstWork",
    "Prelude",
    "Rerun",
    "is_plain_function",
    "is_route_endpoint",
    "on_loop",
    "pool_threads",
    "reads_first",
    "reads_request",
    "reset_route_prelude",
    "route_endpoint",
    "run_in_thread",
    "set_route_prelude",
    "size_for",
    "writes_first",
]

P = ParamSpec("P")
T = TypeVar("T")
D = TypeVar("D", bound=Callable[[Request], Awaitable[Any]])
F = TypeVar("F", bound=Callable[..., Any])

# The threads a worker process runs requests in, by the app's database (`size_for`).
# Every thread with work competes for Python's one interpreter lock with the others and
# with the event loop. The thread that holds what the others wait for (on PostgreSQL an
# event's row lock, on SQLite the database's write lock, each held through the request's
# Python in its transaction) waits for the interpreter like any other, so fewer threads
# sell more: under `make onsale` (2 workers on 2 cores, 32 buyers) on PostgreSQL 10
# threads sold 84-113 orders/s against 73-87 with 40, at 10.7-12.1 ms of the server's CPU
# an order against 12.6-13.6, and once its round trips were fewer, 6 sold 153-160 against
# 135-154 with 10, and 4 sold 168-184 against 155-167 with 6 (p99 133-162 ms); once a
# statement cost less, 3 sold 223-236 (median 228) against 217-227 (223) with 4 on the
# hall and 218-231 (222) against 213-225 (217) on the unreserved event, four pairings
# (ahead in 7 of 8 sales, by 2%); on SQLite 10 sold 149-178 against 136-162 with 40 in
# five pairings of runs (two earlier runs each had given the opposite: docs/benchmarks.md,
# "On-sale"), and later 4 sold 245-265 (median 252) against 192-262 (245) with 10, four
# pairings (ahead in 7 of 8 sales; p99 per request 132-149 ms against 134-174), where a
# visitor's `GET /event/{id}` during the sale waited longer (p50 21-42 ms against 13-26).
# Streaming exports do not hold these threads (Starlette reads their bodies in its own).
THREADS = {"postgresql": 3, "sqlite": 4}
# Any other database: as many as anyio's default limiter allows for the same work.
DEFAULT_THREADS = 40

# How long a thread may run Python while another waits for the interpreter lock, in
# seconds (sys.setswitchinterval), by the app's database (`size_for`). A thread whose
# database call has returned waits for the lock until the thread running Python lets go
# of it, at most this long each time. On PostgreSQL the thread holding an event's row lock
# makes a round trip or two before its commit, and waits that way after each while the
# event's other buyers wait for it. At 1 ms instead of Python's 5, eight `make onsale`
# runs on PostgreSQL each, alternately: the reserved hall sold 101-129 orders/s (median
# 122) against 98-124 (113), the unreserved event 112-148 (126) against 99-140 (124), at
# a little less of the server's CPU an order. SQLite keeps Python's own (two runs each:
# within their spread either way).
SWITCH_INTERVALS = {"postgresql": 0.001}
DEFAULT_SWITCH_INTERVAL = 0.005


# The databases on which a route marked `on_loop` runs in a greenlet on the event loop
# (green.py) instead of a request thread: those whose waits are a socket's (psycopg's,
# db/pgwire.py's) or the writers' turn (SQLite's, db/engine.py, waited for with the loop
# going on). Under `bench/onsale.py` on PostgreSQL (this and the thread pool alone
# alternately, twice) the sales sold 220-269 orders/s against 173-237, at 4.6-5.6 ms of
# the server's CPU an order against 5.2-7.1 (docs/benchmarks.md, "Routes on the event
# loop"); on SQLite (the same, twice) 457-582 against 374-417 ("SQLite's turn waited for
# on the loop"), where a statement waits for nothing but the turn and the disk.
GREEN = frozenset({"postgresql", "sqlite"})

# How many routes marked `on_loop` run at once on a worker's event loop, by database (a
# request beyond them waits for one to finish). On PostgreSQL as many as its request
# threads: a greenlet holds its connection across its round trips, so the pools'
# connections stay as many as with threads. On SQLite a greenlet holds a connection only
# while its statements run, which wait for nothing (a writer waits for the turn before
# it takes one: db/transactions.py, write_transaction), so a read goes on while writers
# wait for the turn that another process holds (the CLI loading a catalog), until as
# many writers wait as the bound. As many as SQLite's pool keeps (engine.py, 20 of at
# most 50), so that should every greenlet hold a connection while it waits (the key
# check's, while a rate limit's lease waits for the turn), 30 are left for the request
# threads and the streaming exports.
GREENLETS = {"postgresql": THREADS["postgresql"], "sqlite": 20}


@dataclass(slots=True)
class _Pool:
    threads: int
    executor: ThreadPoolExecutor


def _executor(threads: int) -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max_workers=threads, thread_name_prefix="boxoffice-request")


_POOL = _Pool(DEFAULT_THREADS, _executor(DEFAULT_THREADS))


def size_for(database: str) -> None:
    """Run requests in THREADS[database] threads (`database`: a dialect's name), switching
    between threads at SWITCH_INTERVALS[database]; create_app calls it. A pool of another
    size is replaced; its threads finish what they run and end once it is gone."""
    sys.setswitchinterval(SWITCH_INTERVALS.get(database, DEFAULT_SWITCH_INTERVAL))
    threads = THREADS.get(database, DEFAULT_THREADS)
    if threads != _POOL.threads:
        _POOL.threads, _POOL.executor = threads, _executor(threads)


def pool_threads() -> int:
    """How many threads the request path runs in now."""
    return _POOL.threads


# What a route does first with the database, as its function is marked: a write
# transaction (`writes_first`), a read (`reads_first`), or None (unknown, or already done).
FirstWork = Literal["writes", "reads"] | None

# Blocking work to do in the route's thread before the route: it gets the route's keyword
# arguments and may replace some (the authenticated tenant) or raise (a refusal), and what
# the route does first with the database. What it returns, if anything, is called in the
# same thread once the route is done, and may raise too (a refusal, `Rerun`).
Prelude = Callable[[dict[str, Any], FirstWork], Callable[[], None] | None]
_PRELUDE: contextvars.ContextVar[Prelude | None] = contextvars.ContextVar(
    "boxoffice_route_prelude", default=None
)


async def run_in_thread(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`func(*args, **kwargs)` in a worker thread, in a copy of the caller's context."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
    future = loop.run_in_executor(_POOL.executor, call)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        # A thread cannot be stopped: wait for it before the cancellation goes on.
        await asyncio.wait((future,))
        raise


def set_route_prelude(prelude: Prelude) -> contextvars.Token[Prelude | None]:
    """Run `prelude` in the thread of this request's route, before the route."""
    return _PRELUDE.set(prelude)


def reset_route_prelude(token: contextvars.Token[Prelude | None]) -> None:
    _PRELUDE.reset(token)


_WRAPPED = "_boxoffice_route_endpoint"
_ON_LOOP = "_boxoffice_on_loop"
_READS_REQUEST = "_boxoffice_reads_request"
_FIRST_WORK = "_boxoffice_first_work"
# The argument that carries the request to an endpoint that reads values from it.
_REQUEST = "_boxoffice_request"

# A route's parameters that its endpoint reads from the request: (name, dependency).
Readers = tuple[tuple[str, Callable[[Request], Awaitable[Any]]], ...]


def reads_request(dependency: D) -> D:
    """Mark an async dependency that only reads the request (the app's state, the scope):
    a route's endpoint (route_endpoint) calls it itself. FastAPI's solver costs ~13 us of
    CPU per dependency and request (a recursive solve, a cache key, the call); FastAPI still
    solves it where no route_endpoint stands in between."""
    setattr(dependency, _READS_REQUEST, True)
    return dependency


def writes_first(route: F) -> F:
    """Mark a route function (plain, not async) whose first work with the database is a
    write transaction (db.transactions.write_transaction), with nothing before it that
    cannot be undone: the prelude may then open that transaction ahead of the route, with
    the request's key check in its first round trip (tenancy/auth.py)."""
    setattr(route, _FIRST_WORK, "writes")
    return route


def reads_first(route: F) -> F:
    """Mark a route function (plain, not async) whose first work with the database is a
    read (db.transactions.read_transaction), with nothing before it that the request's key
    must allow first (no write, no call out, nothing that cannot be done again): the
    prelude may then send the request's key check in that read's round trip, with the
    client it had found for the same key before, and have the read's rows reach the route
    only once the key has passed (tenancy/auth.py). Such a route may be run twice (`Rerun`)."""
    setattr(route, _FIRST_WORK, "reads")
    return route


def on_loop(route: F) -> F:
    """Mark a route function (plain, not async, taking the app's `engine`) whose work, its
    prelude's included, is its database round trips and a little Python: where the
    engine's database allows (GREEN) it runs on the event loop in a greenlet, its waits for
    the database awaited (green.py), as many at once as GREENLETS[database]. It must not
    call out, sleep, compute for long, or wait for a lock but through `green.acquire`."""
    setattr(route, _ON_LOOP, True)
    return route


class Rerun(Exception):
    """Raised in a route's thread when what its prelude assumed does not hold (the key
    check sent with the route's first read found the key's client changed since): the
    route is run again from the start, with the prelude's check settled."""


def _reader(parameter: inspect.Parameter) -> Callable[[Request], Awaitable[Any]] | None:
    """The request-reading dependency a parameter is declared with, if any."""
    if get_origin(parameter.annotation) is not Annotated:
        return None
    for marker in get_args(parameter.annotation)[1:]:
        if isinstance(marker, params.Depends) and getattr(marker.dependency, _READS_REQUEST, False):
            reader: Callable[[Request], Awaitable[Any]] = marker.dependency  # type: ignore[assignment]
            return reader
    return None


def _without_readers(func: Callable[..., Any]) -> tuple[inspect.Signature, Readers, str]:
    """The signature FastAPI should read for `func` (its request-reading parameters left
    out, a Request parameter in their place), those parameters, and that Request's name."""
    signature = inspect.signature(func, eval_str=True)
    readers: list[tuple[str, Callable[[Request], Awaitable[Any]]]] = []
    kept: list[inspect.Parameter] = []
    request_name = ""
    for name, parameter in signature.parameters.items():
        reader = _reader(parameter)
        if reader is not None:
            readers.append((name, reader))
            continue
        if parameter.annotation is Request:
            request_name = name
        kept.append(parameter)
    if readers and not request_name:
        request_name = _REQUEST
        kept.append(inspect.Parameter(_REQUEST, inspect.Parameter.KEYWORD_ONLY, annotation=Request))
    return signature.replace(parameters=kept), tuple(readers), request_name


async def _read_request(arguments: dict[str, Any], readers: Readers, request_name: str) -> None:
    """Put each request-reading parameter's value into the route's arguments."""
    request = arguments.pop(_REQUEST) if request_name == _REQUEST else arguments[request_name]
    for name, read in readers:
        arguments[name] = await read(request)


def _after_prelude(func: Callable[..., T], arguments: dict[str, Any], first: FirstWork) -> T:
    prelude = _PRELUDE.get()
    if prelude is None:
        return func(**arguments)
    given = dict(arguments)
    try:
        return _run_after(prelude, func, arguments, first)
    except Rerun:
        # Nothing of the first run reached anyone (reads_first): the route afresh, with
        # the arguments it was given and the prelude's check settled.
        return _run_after(prelude, func, given, None)


def _run_after(
    prelude: Prelude, func: Callable[..., T], arguments: dict[str, Any], first: FirstWork
) -> T:
    done = prelude(arguments, first)
    try:
        return func(**arguments)
    finally:
        # What `done` raises (a refusal settled only now) replaces the route's outcome.
        if done is not None:
            done()


def route_endpoint(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """The endpoint FastAPI should call for a route's function: async, with the prelude.

    A plain function runs in this pool (after the prelude, in the same thread); an async
    one is awaited after the prelude has run in a thread. The wrapper carries the
    function's name, docstring and signature, so FastAPI reads the same parameters and
    documents the same operation, and awaits it instead of handing a plain function to its
    own thread pool. Only the parameters of request-reading dependencies (reads_request)
    are left out of that signature, for a Request: the wrapper reads them from it.
    """
    if is_route_endpoint(func):
        return func
    signature, readers, request_name = _without_readers(func)
    if is_plain_function(func):
        first: FirstWork = getattr(func, _FIRST_WORK, None)
        loop_ok = bool(getattr(func, _ON_LOOP, False))
        if (
            loop_ok
            and "engine" not in signature.parameters
            and not any(name == "engine" for name, _ in readers)
        ):
            raise TypeError(f"{func!r}: a route marked on_loop takes the app's `engine`")

        @functools.wraps(func)
        async def endpoint(**arguments: Any) -> Any:
            if readers:
                await _read_request(arguments, readers, request_name)
            if loop_ok:
                database = arguments["engine"].dialect.name
                if database in GREEN:
                    return await green.run(
                        GREENLETS[database],
                        _after_prelude,
                        func,
                        arguments,
                        first,
                    )
            return await run_in_thread(_after_prelude, func, arguments, first)

    elif inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def endpoint(**arguments: Any) -> Any:
            if readers:
                await _read_request(arguments, readers, request_name)
            prelude = _PRELUDE.get()
            if prelude is not None:
                done = await run_in_thread(prelude, arguments, None)
                if done is not None:
                    await run_in_thread(done)
            return await func(**arguments)

    else:
        raise TypeError(f"{func!r}: a route's endpoint is a plain or an async function")
    setattr(endpoint, _WRAPPED, True)
    endpoint.__signature__ = signature  # type: ignore[attr-defined]
    return endpoint


def is_route_endpoint(func: Any) -> bool:
    """Whether `func` was made by route_endpoint (so runs the prelude first)."""
    return bool(getattr(func, _WRAPPED, False))


def is_plain_function(func: Any) -> bool:
    """A function FastAPI would run in its thread pool (not async, not a class or generator)."""
    return (
        inspect.isfunction(func)
        and not inspect.iscoroutinefunction(func)
        and not inspect.isgeneratorfunction(func)
        and not inspect.isasyncgenfunction(func)
    )
