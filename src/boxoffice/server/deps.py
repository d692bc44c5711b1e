"""Request-scoped access to the engine and settings (and the settings routes pass on)."""

from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import Engine

from boxoffice.server.config import Settings


def get_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_hold_minutes(request: Request) -> int:
    return get_app_settings(request).cart_hold_minutes


AppEngine = Annotated[Engine, Depends(get_engine)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
# How long a cart holds its places after each change (BOXOFFICE_CART_HOLD_MINUTES).
HoldMinutes = Annotated[int, Depends(get_hold_minutes)]
