"""The request path's thread pool: blocking work (database calls) off the event loop, cheaply.

Every API request used to make two hops through Starlette's `run_in_threadpool` (anyio's
worker threads): the key lookup, then the route. Each hop goes through a `queue.Queue` (a
Python-level lock and condition), a capacity limiter and a cancel scope. A
`concurrent.futures.ThreadPoolExecutor` hands the work over through a C-level
`SimpleQueue`: 33-47 us of CPU a hop instead of 56-57 at 8 in flight
(bench/threadhop_cost.py, docs/benchmarks.md).

What anyio guaranteed is kept: the caller's context variables are seen in the thread (the
request id of log lines), at most THREADS threads run at once, and a cancelled caller
still waits for its thread to finish, so no part of a request outlives it.

A middleware may leave blocking work for the route's own hop (`set_route_prelude`): the
authentication's key check runs first in the route's thread, so that an API request makes
one hop, not two (tenancy/auth.py).
"""

import asyncio
import contextvars
import functools
import inspect
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

__all__ = [
    "THREADS",
    "Prelude",
    "is_plain_function",
    "is_route_endpoint",
    "reset_route_prelude",
    "route_endpoint",
    "run_in_thread",
    "set_route_prelude",
]

P = ParamSpec("P")
T = TypeVar("T")

# As many as anyio's default limiter allowed for the same work (40).
THREADS = 40

_POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="boxoffice-request")

# Blocking work to do in the route's thread before the route: it gets the route's keyword
# arguments and may replace some (the authenticated tenant) or raise (a refusal).
Prelude = Callable[[dict[str, Any]], None]
_PRELUDE: contextvars.ContextVar[Prelude | None] = contextvars.ContextVar(
    "boxoffice_route_prelude", default=None
)


async def run_in_thread(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`func(*args, **kwargs)` in a worker thread, in a copy of the caller's context."""
    loop = asyncio.get_running_loop()
    call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
    future = loop.run_in_executor(_POOL, call)
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


def _after_prelude(func: Callable[..., T], arguments: dict[str, Any]) -> T:
    prelude = _PRELUDE.get()
    if prelude is not None:
        prelude(arguments)
    return func(**arguments)


def route_endpoint(func: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """The endpoint FastAPI should call for a route's function: async, with the prelude.

    A plain function runs in this pool (after the prelude, in the same thread); an async
    one is awaited after the prelude has run in a thread. The wrapper carries the
    function's name, docstring and signature (`__wrapped__`), so FastAPI reads the same
    parameters and documents the same operation, and awaits it instead of handing a plain
    function to its own thread pool.
    """
    if is_route_endpoint(func):
        return func
    if is_plain_function(func):

        @functools.wraps(func)
        async def endpoint(**arguments: Any) -> Any:
            return await run_in_thread(_after_prelude, func, arguments)

    elif inspect.iscoroutinefunction(func):

        @functools.wraps(func)
        async def endpoint(**arguments: Any) -> Any:
            prelude = _PRELUDE.get()
            if prelude is not None:
                await run_in_thread(prelude, arguments)
            return await func(**arguments)

    else:
        raise TypeError(f"{func!r}: a route's endpoint is a plain or an async function")
    setattr(endpoint, _WRAPPED, True)
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
