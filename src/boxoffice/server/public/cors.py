"""CORS for the public API: any site's browser widget may call it; the Peppered API gets none.

Starlette's CORSMiddleware answers preflight requests and decorates requests that carry an
Origin; the contract also wants `Access-Control-Allow-Origin: *` on every public response,
with or without an Origin, so that a cached answer works for every site.
"""

from starlette.datastructures import MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from boxoffice.server.public.paths import is_public_path

# A day: browsers cap it lower (Chromium at two hours), which is fine.
PREFLIGHT_MAX_AGE_SECONDS = 86_400


class PublicCorsMiddleware:
    """CORS on public paths only; other paths pass through untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=["*"],
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["Location", "Retry-After"],
            max_age=PREFLIGHT_MAX_AGE_SECONDS,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_public_path(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_with_origin(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "access-control-allow-origin" not in headers:
                    headers["Access-Control-Allow-Origin"] = "*"
            await send(message)

        await self.cors(scope, receive, send_with_origin)
