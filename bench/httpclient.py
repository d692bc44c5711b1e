"""A minimal HTTP/1.1 client on asyncio streams: keep-alive, Content-Length and chunked bodies.

The buyers of the on-sale bench share the machine's two cores with the server, so the
client must cost as little as possible: no header objects, no URL parsing, no content
decoding; one pre-built request head per call and two reads per response. It speaks
only to our own server (127.0.0.1), which always answers with Content-Length or chunked.
"""

from __future__ import annotations

import asyncio
import time

_CRLF = b"\r\n"


class HttpError(Exception):
    """The connection broke or the answer was not HTTP."""


class Connection:
    """One keep-alive connection; requests on it are sequential."""

    def __init__(self, host: str, port: int, headers: dict[str, str]) -> None:
        self.host = host
        self.port = port
        fixed = f"Host: {host}:{port}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._fixed = fixed.encode("latin-1")
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self._reader, self._writer

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def request(
        self, method: str, path: str, body: bytes | None = None
    ) -> tuple[int, bytes, float]:
        """(status, body, seconds from sending to the last byte)."""
        reader, writer = await self._open()
        head = f"{method} {path} HTTP/1.1\r\n".encode("latin-1") + self._fixed
        if body is not None:
            head += b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
        started = time.perf_counter()
        writer.write(head + _CRLF + (body or b""))
        try:
            status, payload, keep = await self._response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
            self.close()
            raise HttpError(f"{method} {path}: {exc!r}") from exc
        seconds = time.perf_counter() - started
        if not keep:
            self.close()
        return status, payload, seconds

    @staticmethod
    async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.split(_CRLF)
        status = int(lines[0].split(b" ", 2)[1])
        length = -1
        chunked = False
        keep = True
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                keep = b"close" not in value.lower()
        if chunked:
            parts = []
            while True:
                size = int((await reader.readuntil(_CRLF)).split(b";")[0], 16)
                if size == 0:
                    await reader.readuntil(_CRLF)
                    break
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            return status, b"".join(parts), keep
        if length < 0:
            return status, await reader.read(), False
        return status, await reader.readexactly(length), keep


async def closed_loop(
    host: str, port: int, path: str, headers: dict[str, str], connections: int, seconds: float
) -> dict[str, float | int]:
    """GET `path` back to back on `connections` keep-alive connections for `seconds`: the
    fallback load generator when wrk is not installed. Requests and non-2xx answers."""
    deadline = time.perf_counter() + seconds
    done = [0]
    failed = [0]

    async def one() -> None:
        conn = Connection(host, port, headers)
        try:
            while time.perf_counter() < deadline:
                status, _, _ = await conn.request("GET", path)
                done[0] += 1
                if not 200 <= status < 300:
                    failed[0] += 1
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    return {"requests": done[0], "non_2xx": failed[0], "seconds": elapsed}
