"""Mounts the embedded shop's routes on the app. CORS and the per-address limit of the
public API cover the ticket host's API paths too (public/paths.py)."""

from fastapi import FastAPI

from boxoffice.server.embed.routes import api, scripts
from boxoffice.server.paths import EMBED_SCRIPTS_PREFIX, TICKET_HOST_API_PREFIX


def install_embed(app: FastAPI) -> None:
    app.include_router(api, prefix=TICKET_HOST_API_PREFIX)
    app.include_router(scripts, prefix=EMBED_SCRIPTS_PREFIX)
