"""Request-scoped access to the engine and settings (and the settings routes pass on).

The dependencies only read the request: an API route's endpoint reads them itself
(threadpool.reads_request). They are `async def` although they do not wait for anything:
where FastAPI solves them, it runs a plain `def` dependency in the thread pool, a hop to
another thread and back per dependency and request, where these only read an attribute.
"""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from boxoffice.server.config import Settings
from boxoffice.server.threadpool import reads_request


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@reads_request
async def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


@reads_request
async def get_app_settings(request: Request) -> Settings:
    return _settings(request)


@reads_request
async def get_hold_minutes(request: Request) -> int:
    return _settings(request).cart_hold_minutes


AppEngine = Annotated[Engine, Depends(get_engine)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
# How long a cart holds its places after each change (BOXOFFICE_CART_HOLD_MINUTES).
HoldMinutes = Annotated[int, Depends(get_hold_minutes)]
