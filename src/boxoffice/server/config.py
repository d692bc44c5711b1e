"""Settings of the server, read from BOXOFFICE_* environment variables."""

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting has a working default; see docs/operations.md."""

    model_config = SettingsConfigDict(env_prefix="BOXOFFICE_", extra="ignore")

    database_url: str = "sqlite:///./boxoffice.db"
    # Off switches the sync extensions (watermark, cursor paging, NDJSON, gzip, changedUntil)
    # so that the server behaves like the reference API; used to test sync clients.
    extensions: bool = True
    export_batch_size: int = 2000
    cart_hold_minutes: int = 15
    max_body_bytes: int = 1_048_576


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
