"""The body of an export: batches fetched from one snapshot, rendered and written as they go.

The stream owns the snapshot (a connection in an open read transaction) from the moment the
route hands it over, and releases it exactly once: when the last batch is written, when
reading fails, or when the client goes away mid-stream (ExportResponse closes it then).
"""

import gc
import queue
import threading
from collections.abc import Generator, Iterator, Mapping
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import anyio
import anyio.to_thread
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from boxoffice.server.db.paging import Window
from boxoffice.server.db.transactions import Snapshot, close_snapshot
from boxoffice.server.exports.exporters import Batch, Exporter, export_context
from boxoffice.server.exports.writers import Writer
from boxoffice.server.ops.metrics import record_export

_gc_lock = threading.Lock()
_gc_pausers = 0
_gc_was_enabled = False


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Keep the cyclic garbage collector from running while a batch is read and rendered.

    A batch is some 20,000 dicts and lists that live until its bytes are made: enough to be
    promoted to the oldest generation, so that every few batches Python walked the whole
    heap in a full collection (a fifth of an orders export's time). None of them is in a
    reference cycle, so reference counting frees them all when the batch is dropped and the
    collector has nothing to find. Pauses nest across threads (concurrent exports): the
    last one out re-enables the collector, if it was enabled when the first one came in.
    """
    global _gc_pausers, _gc_was_enabled
    with _gc_lock:
        if _gc_pausers == 0:
            _gc_was_enabled = gc.isenabled()
            gc.disable()
        _gc_pausers += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pausers -= 1
            if _gc_pausers == 0 and _gc_was_enabled:
                gc.enable()


class ExportStopped(Exception):
    """The export was closed while its stream was still being read."""


class _ReadAhead:
    """An export's batches read by a thread of their own, one batch ahead of the one encoded.

    When the database renders an export, reading a batch is mostly the database's work (the
    PostgreSQL backend's, or SQLite's, which runs without the interpreter lock between its
    callbacks) and encoding and sending it is Python's; done in turn, each would wait for the
    other, with a core idle. The thread keeps at most one batch ready, so memory still holds a
    batch or two. It is the only user of the snapshot's connection while it runs: encoding
    reads nothing (Reading.read_ahead). `close` stops and joins it before the connection goes.
    """

    _END = object()

    def __init__(self, batches: Generator[Batch, None, None]) -> None:
        self._batches = batches
        self._ready: queue.Queue[object] = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="export-read-ahead", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while not self._stop.is_set():
                with _cyclic_gc_paused():
                    batch = next(self._batches, None)
                if batch is None:
                    self._put(self._END)
                    return
                if not self._put(batch):
                    return
        except BaseException as exc:  # handed to the reader, which raises it
            self._put(exc)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._ready.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[Batch]:
        return self

    def __next__(self) -> Batch:
        while not self._stop.is_set():
            try:
                item = self._ready.get(timeout=_POLL_SECONDS)
            except queue.Empty:
                continue
            if item is self._END:
                raise StopIteration
            if isinstance(item, BaseException):
                raise item
            return item  # type: ignore[return-value]
        # Not StopIteration: a stopped export must not end as if it were complete.
        raise ExportStopped("the export was stopped while a batch was being read")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._batches.close()


# How often a waiting read-ahead thread, or its reader, checks whether the export stopped.
_POLL_SECONDS = 0.05


class ExportStream:
    """An iterable of byte chunks, one per batch of `batch_size` records.

    Iterating it reads batch after batch, so the first bytes leave before the last rows are
    read and memory holds a batch or two at a time, whatever the size of the export.
    """

    def __init__(
        self,
        snapshot: Snapshot,
        exporter: Exporter,
        *,
        tenant_id: int,
        tz: ZoneInfo,
        window: Window,
        writer: Writer,
        batch_size: int,
        user_cache_bytes: int,
    ) -> None:
        self._snapshot: Snapshot | None = snapshot
        self._exporter = exporter
        self._tenant_id = tenant_id
        self._tz = tz
        self._window = window
        self._writer = writer
        self._batch_size = max(1, batch_size)
        self._context = export_context(
            snapshot.conn, tenant_id=tenant_id, tz=tz, budget=user_cache_bytes
        )
        self._read_ahead: _ReadAhead | None = None
        self._chunks = self._generate()

    def __iter__(self) -> Iterator[bytes]:
        return self._chunks

    def _generate(self) -> Generator[bytes, None, None]:
        context, exporter, writer, first = self._context, self._exporter, self._writer, True
        reading = exporter.read(context, window=self._window, size=self._batch_size, writer=writer)
        encode = reading.encode
        batches: Iterator[Batch] = reading.batches
        if reading.read_ahead:
            batches = self._read_ahead = _ReadAhead(reading.batches)
        try:
            while True:
                with _cyclic_gc_paused():
                    batch = next(batches, None)
                    if batch is None:
                        break
                    chunk = encode(batch, first)
                # A short batch is the last one: it carries the end of the stream with it.
                count = len(batch.rows)
                del batch
                last = count < self._batch_size
                if last:
                    chunk += writer.tail
                record_export(exporter.name, count, len(chunk))
                first = False
                yield chunk
                if last:
                    return
            closing = writer.head + writer.tail if first else writer.tail
            if closing:
                record_export(exporter.name, 0, len(closing))
                yield closing
        finally:
            self._stop_reading()
            reading.batches.close()
            self._release()

    def _stop_reading(self) -> None:
        read_ahead, self._read_ahead = self._read_ahead, None
        if read_ahead is not None:
            read_ahead.close()

    def _release(self) -> None:
        snapshot, self._snapshot = self._snapshot, None
        if snapshot is not None:
            # The stream and its generator refer to each other, so only the cyclic collector
            # would free them, and it may not run for many exports when they allocate little
            # it tracks: the customer cache (up to its budget) goes now, not then.
            self._context.users.forget()
            close_snapshot(snapshot)

    def close(self) -> None:
        """Stop the stream and release its snapshot; safe to call more than once.

        A generator that never started does not run its `finally`, hence the explicit release.
        """
        try:
            self._stop_reading()
            self._chunks.close()
        finally:
            self._release()


class ExportResponse(StreamingResponse):
    """A StreamingResponse that always releases its export's snapshot, however it ends.

    When the client disconnects, Starlette cancels the sending task and the body iterator
    is merely abandoned; closing the stream here returns the connection to the pool at once
    instead of whenever the garbage collector gets to it. The close runs in a thread (it
    talks to the database) and is shielded from the cancellation that may have ended us.
    """

    def __init__(self, stream: ExportStream, *, media_type: str, headers: Mapping[str, str]):
        super().__init__(stream, media_type=media_type, headers=headers)
        self._export = stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._export.close)
