"""Request-scoped access to the engine and settings."""

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


AppEngine = Annotated[Engine, Depends(get_engine)]
AppSettings = Annotated[Settings, Depends(get_app_settings)]
