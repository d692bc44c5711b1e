"""Routes run on the event loop, in a greenlet, their waits for the database awaited.

A route's function is plain Python that blocks: it waits for each round trip to the
database. In a request thread (threadpool.py) every request costs two hand-overs between
threads (to the thread and back to the event loop) and, while it runs, the two threads'
turns at Python's interpreter lock: taken away, the server's CPU an order of
`bench/onsale.py` on PostgreSQL fell by 12-27% (docs/benchmarks.md, "Routes on the event
loop"). Run in a greenlet on the event loop's own thread instead, the function is the
same; where it would wait for a socket (db/pgwire.py's round trips, psycopg's own waits:
db/engine.py) it switches back to the event loop (`wait_socket`), which awaits the
socket and switches back into it once the socket is ready. A SQLite write waits for no
socket, only for the writers' turn, and waits for it on the loop too (db/engine.py,
`_LoopTurn`: `wait_future`, `pause`). Meanwhile the loop serves other requests, other
greenlets among them: a route waiting for a row lock another request holds waits as it
did in its thread, and the holder goes on.

What a route run this way must not do is block the thread otherwise: no call out to
another service, no sleeping, no waiting for a lock that a greenlet waiting for the
database may hold (`acquire` and `holding` take such a lock), no long computation (it
would hold up every other request of the worker). Routes opt in (threadpool.on_loop);
the request threads still run every other one.

What the request thread pool guaranteed is kept (`run`): the caller's context variables
are seen in the greenlet, at most `limit` greenlets run at once on a loop (the database's
connections stay as many as with threads), and a cancelled caller still waits for its
greenlet to finish, so no part of a request outlives it.
"""

import asyncio
import contextlib
import contextvars
import functools
import selectors
import threading
import weakref
from collections.abc import Callable, Iterator
from typing import ParamSpec, TypeVar

import greenlet

__all__ = [
    "READ",
    "WRITE",
    "acquire",
    "holding",
    "in_request_greenlet",
    "pause",
    "run",
    "wait_future",
    "wait_socket",
]

P = ParamSpec("P")
T = TypeVar("T")

READ = selectors.EVENT_READ
WRITE = selectors.EVENT_WRITE

# How long a greenlet that found a lock taken gives the event loop before it tries again
# (`acquire`), in seconds: such a lock is held for a round trip to the database.
_LOCK_RETRY_SECONDS = 0.0005


class _RequestGreenlet(greenlet.greenlet):
    """A route's greenlet: its parent is the event loop's, which drives it (`_drive`)."""


class _Pause:
    """What a greenlet hands its driver to be resumed at the loop's next turns."""


_PAUSE = _Pause()


def _to_loop(current: _RequestGreenlet, handed: object) -> int:
    """Switch to the event loop's greenlet (`_drive`) with what to wait for; what it
    answers when it switches back (the events a socket is ready for)."""
    loop_side = current.parent
    assert loop_side is not None  # a route's greenlet is always made by its driver
    ready: int = loop_side.switch(handed)
    return ready


def in_request_greenlet() -> bool:
    """Whether this runs in a route's greenlet (so may switch to the event loop to wait)."""
    return isinstance(greenlet.getcurrent(), _RequestGreenlet)


def wait_socket(fileno: int, events: int) -> int | None:
    """In a route's greenlet: wait until the socket is ready for `events` (READ, WRITE or
    both), the event loop serving other requests meanwhile; the events it is ready for.
    Anywhere else: None at once (the caller waits its own way)."""
    current = greenlet.getcurrent()
    if not isinstance(current, _RequestGreenlet):
        return None
    return _to_loop(current, (fileno, events))


def pause() -> None:
    """In a route's greenlet: give the event loop a turn of about half a millisecond before
    going on (a greenlet trying again for something held elsewhere). Anywhere else: nothing."""
    current = greenlet.getcurrent()
    if isinstance(current, _RequestGreenlet):
        _to_loop(current, _PAUSE)


def wait_future(future: "asyncio.Future[object]") -> None:
    """In a route's greenlet: wait until `future` (of this event loop) is done, the loop
    serving other requests meanwhile; its outcome is left to the caller. Not for anywhere
    else (a future of the loop is set only by the loop's thread)."""
    current = greenlet.getcurrent()
    if not isinstance(current, _RequestGreenlet):
        raise RuntimeError("wait_future waits in a route's greenlet only")
    _to_loop(current, future)


def acquire(lock: threading.Lock) -> None:
    """Take `lock`; in a route's greenlet without blocking the event loop's thread (a
    greenlet waiting for the database may hold it: blocking would stop that greenlet too)."""
    if lock.acquire(blocking=False):
        return
    if not in_request_greenlet():
        lock.acquire()
        return
    while not lock.acquire(blocking=False):
        pause()


@contextlib.contextmanager
def holding(lock: threading.Lock) -> Iterator[None]:
    """`with lock:`, the lock taken by `acquire`."""
    acquire(lock)
    try:
        yield
    finally:
        lock.release()


# The greenlets that may run at once, per event loop (an asyncio.Semaphore belongs to one).
_LIMITS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore]" = (
    weakref.WeakKeyDictionary()
)
_LIMITS_LOCK = threading.Lock()


def _limit(loop: asyncio.AbstractEventLoop, size: int) -> asyncio.Semaphore:
    found = _LIMITS.get(loop)
    if found is None:
        with _LIMITS_LOCK:
            found = _LIMITS.setdefault(loop, asyncio.Semaphore(size))
    return found


async def _ready(loop: asyncio.AbstractEventLoop, fileno: int, events: int) -> int:
    """Await the socket's readiness for `events`; the events it is ready for. One waiter a
    socket at a time (the loop keeps one reader and one writer a socket): a connection is
    used by one request at a time."""
    future: asyncio.Future[int] = loop.create_future()

    def ready(event: int) -> None:
        if not future.done():
            future.set_result(event)

    if events & READ:
        loop.add_reader(fileno, ready, READ)
    if events & WRITE:
        loop.add_writer(fileno, ready, WRITE)
    try:
        return await future
    finally:
        if events & READ:
            loop.remove_reader(fileno)
        if events & WRITE:
            loop.remove_writer(fileno)


async def _drive(call: Callable[[], T]) -> T:
    """Run `call` in a greenlet of its own, awaiting each wait it hands over. A cancelled
    caller still drives it to its end (then the cancellation is raised)."""
    loop = asyncio.get_running_loop()
    child = _RequestGreenlet(call)
    handed = child.switch()
    cancelled: asyncio.CancelledError | None = None
    while not child.dead:
        try:
            if handed is _PAUSE:
                await asyncio.sleep(_LOCK_RETRY_SECONDS)
                ready = 0  # what `pause` gets back, and leaves
            elif isinstance(handed, asyncio.Future):
                # Waited for, never cancelled from here: whoever set it up sets it.
                await asyncio.wait((handed,))
                ready = 0
            else:
                fileno, events = handed
                try:
                    ready = await _ready(loop, fileno, events)
                except (OSError, ValueError):
                    # The socket cannot be watched (closed meanwhile): the greenlet's own
                    # read of it raises the driver's error.
                    ready = events
        except asyncio.CancelledError as exc:
            cancelled = exc
            continue  # the same wait again: the greenlet is not resumed before it is over
        handed = child.switch(ready)
    if cancelled is not None:
        raise cancelled
    result: T = handed
    return result


async def run(limit: int, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """`func(*args, **kwargs)` in a greenlet on this event loop, in a copy of the caller's
    context, at most `limit` of them at once on this loop."""
    call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
    async with _limit(asyncio.get_running_loop(), limit):
        return await _drive(call)
