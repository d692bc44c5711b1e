"""A small HTTP proxy in front of the real server that misbehaves on purpose.

It forwards every request to the upstream app and, by a fixed plan, answers some with a
429 (Retry-After), a 5xx, or a response cut off mid-body. It can also make the upstream
look like a plain reference server that honours only changedSince/changedUntil (no
extension headers, no limit or cursor), or corrupt chosen records.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import httpx

Send = Callable[[dict[str, Any]], Any]
REFERENCE_HIDDEN_HEADERS = {b"x-sync-watermark", b"x-next-cursor"}


@dataclass
class Seen:
    path: str
    body: dict[str, Any]
    action: str


@dataclass
class FaultProxy:
    upstream: str
    # Actions for the 1st, 2nd, ... request: "ok", "429", "500", "503", "cut", "422".
    plan: list[str] = field(default_factory=list)
    # Make the upstream look like a reference server that knows changedUntil only.
    reference: bool = False
    # Drop these body fields before forwarding (e.g. changedUntil: a server ignoring it).
    drop_fields: frozenset[str] = frozenset()
    # Applied to each record of export responses (then sent as one JSON array).
    mutate: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None
    seen: list[Seen] = field(default_factory=list)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        body = json.loads(raw) if raw.strip() else {}
        action = self.plan[len(self.seen)] if len(self.seen) < len(self.plan) else "ok"
        self.seen.append(Seen(scope["path"], body, action))
        if action in ("429", "500", "503", "422"):
            headers = [(b"content-type", b"application/json")]
            if action == "429":
                headers.append((b"retry-after", b"1"))
            payload: dict[str, Any] = {"message": f"Injected {action}."}
            if action == "422":
                payload["errors"] = {"changedSince": ["Injected."]}
            await send({"type": "http.response.start", "status": int(action), "headers": headers})
            await send({"type": "http.response.body", "body": json.dumps(payload).encode()})
            return
        for name in self.drop_fields | ({"limit", "cursor"} if self.reference else set()):
            body.pop(name, None)
        headers = {
            k.decode(): v.decode()
            for k, v in scope["headers"]
            if k.lower() not in (b"host", b"content-length")
        }
        if self.reference or self.mutate is not None:
            headers["accept"] = "application/json"
            headers["accept-encoding"] = "identity"
        url = self.upstream + scope["path"]
        content = json.dumps(body).encode() if raw.strip() else None
        async with (
            httpx.AsyncClient(timeout=60) as client,
            client.stream(scope["method"], url, content=content, headers=headers) as r,
        ):
            out = [
                (k, v)
                for k, v in r.headers.raw
                if k.lower() not in (b"content-length", b"transfer-encoding")
                and not (self.reference and k.lower() in REFERENCE_HIDDEN_HEADERS)
            ]
            if self.mutate is not None and r.status_code == 200 and "export/" in url:
                data = json.loads(await r.aread(), parse_float=Decimal)
                if isinstance(data, list) and data and isinstance(data[0], dict):
                    stream = url.rsplit("/", 1)[1]
                    data = [self.mutate(stream, record) for record in data]
                await send({"type": "http.response.start", "status": 200, "headers": out})
                encoded = json.dumps(data, default=str).encode()
                await send({"type": "http.response.body", "body": encoded})
                return
            await send({"type": "http.response.start", "status": r.status_code, "headers": out})
            sent = 0
            async for chunk in r.aiter_raw():
                if action == "cut" and sent > 0:
                    # Drop the connection mid-body, as a dying proxy would.
                    raise ConnectionAbortedError("injected cut")
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                sent += len(chunk)
            if action == "cut":
                raise ConnectionAbortedError("injected cut")
            await send({"type": "http.response.body", "body": b""})
