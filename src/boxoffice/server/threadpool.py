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
"""

import asyncio
import contextvars
import functools
import inspect
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

__all__ = ["THREADS", "in_thread", "is_plain_function", "run_in_thread"]

P = ParamSpec("P")
T = TypeVar("T")

# As many as anyio's default limiter allowed for the same work (40).
THREADS = 40

_POOL = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="boxoffice-request")


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


def in_thread(func: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """An async version of a plain function that runs it through `run_in_thread`.

    The wrapper carries the function's name, docstring and signature (`__wrapped__`), so
    FastAPI reads the same parameters and documents the same operation; it awaits the
    wrapper instead of handing the function to its own thread pool.
    """
    if inspect.iscoroutinefunction(func):
        raise TypeError(f"{func.__name__} is async already")

    @functools.wraps(func)
    async def threaded(*args: P.args, **kwargs: P.kwargs) -> T:
        return await run_in_thread(func, *args, **kwargs)

    return threaded


def is_plain_function(func: Any) -> bool:
    """A function FastAPI would run in its thread pool (not async, not a class or generator)."""
    return (
        inspect.isfunction(func)
        and not inspect.iscoroutinefunction(func)
        and not inspect.isgeneratorfunction(func)
        and not inspect.isasyncgenfunction(func)
    )
