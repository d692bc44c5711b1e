"""GET /: a small page for a person who opens the server in a browser, pointing to the docs."""

from html import escape

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from boxoffice import __version__

_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Boxoffice</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 2em auto">
<h1>Boxoffice {version}</h1>
<p>This is a Boxoffice server. Its API lives under
<code>/v1/&lt;client&gt;/peppered/</code> and needs the client's API key.</p>
<ul>
<li><a href="/docs">/docs</a>: the interactive API documentation</li>
<li><a href="/openapi.json">/openapi.json</a>: the OpenAPI document</li>
<li><a href="/healthz">/healthz</a> and <a href="/readyz">/readyz</a>: health checks</li>
</ul>
</body>
</html>
"""


def install_home_page(app: FastAPI) -> None:
    """Serve the page at / (no key needed; outside the OpenAPI document)."""
    page = _PAGE.format(version=escape(__version__))

    async def home() -> HTMLResponse:
        return HTMLResponse(page)

    app.add_api_route("/", home, methods=["GET", "HEAD"], include_in_schema=False)
