"""Request body limit: 413 for bodies over BOXOFFICE_MAX_BODY_BYTES, without reading them whole.

A declared Content-Length over the limit is refused before anything reads the body; a chunked
(or understated) body is counted as it streams in and refused at the chunk that passes the
limit. Starlette's own `max_body_size` is left unset: it answers in plain text, not the
contract's JSON.
"""

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.server.errors import PayloadTooLarge
from boxoffice.server.ops.scope import header
from boxoffice.server.responses import error_response


def _message(limit: int) -> str:
    return f"The request body is larger than the limit of {limit} bytes."


class BodyTooLarge(HTTPException):
    """Raised from `receive` when the streamed body passes the limit.

    An HTTPException, so FastAPI's body parsing passes it on to the app's handler, which
    renders the contract's JSON; when it escapes even that, the middleware answers it.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, _message(limit))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = header(scope, b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await error_response(PayloadTooLarge(_message(self.max_bytes)))(scope, receive, send)
