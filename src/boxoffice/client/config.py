"""Where the sync finds its key and defaults: BOXOFFICE_SYNC_KEY, then a TOML file.

The key is never an option: command lines end up in shell history and `ps` output.
"""

import os
import stat
import tomllib
from dataclasses import dataclass
from pathlib import Path

from boxoffice.client.errors import ConfigError

KEY_ENV = "BOXOFFICE_SYNC_KEY"
CONFIG_ENV = "BOXOFFICE_SYNC_CONFIG"


@dataclass(frozen=True, slots=True)
class FileConfig:
    """Values from the config file; None when the file does not set them."""

    path: Path | None = None
    key: str | None = None
    url: str | None = None
    client: str | None = None
    to: str | None = None
    streams: str | None = None
    # Set when the file is readable by others than its owner.
    loose_permissions: bool = False


def default_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "boxoffice" / "sync.toml"


def load_config(path: Path | None) -> FileConfig:
    """Read `path`, or $BOXOFFICE_SYNC_CONFIG, or the default file if it exists."""
    explicit = path or (Path(os.environ[CONFIG_ENV]) if os.environ.get(CONFIG_ENV) else None)
    chosen = explicit or default_config_path()
    if not chosen.exists():
        if explicit is not None:
            raise ConfigError(f"config file {chosen} does not exist")
        return FileConfig()
    try:
        mode = chosen.stat().st_mode
        data = tomllib.loads(chosen.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {chosen}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {chosen} is not valid TOML: {exc}") from None
    values: dict[str, str | None] = {}
    for name in ("key", "url", "client", "to", "streams"):
        value = data.get(name)
        if isinstance(value, list) and name == "streams":
            value = ",".join(str(v) for v in value)
        if value is not None and not isinstance(value, str):
            raise ConfigError(f"config file {chosen}: {name} must be a string")
        values[name] = value
    unknown = sorted(set(data) - set(values))
    if unknown:
        raise ConfigError(f"config file {chosen}: unknown setting(s) {', '.join(unknown)}")
    return FileConfig(
        path=chosen,
        key=values["key"],
        url=values["url"],
        client=values["client"],
        to=values["to"],
        streams=values["streams"],
        loose_permissions=bool(mode & (stat.S_IRWXG | stat.S_IRWXO)),
    )


def resolve_key(config: FileConfig) -> str:
    key = os.environ.get(KEY_ENV) or config.key
    if not key or not key.strip():
        where = f" or `key` in {config.path}" if config.path else ""
        raise ConfigError(
            f"no API key: set {KEY_ENV}{where} (see docs/sync.md); it is never taken "
            "from the command line"
        )
    key = key.strip()
    # Only visible ASCII can go in a header; checked here so that no HTTP library ever
    # quotes the key back in an "illegal header value" error.
    if not all("!" <= ch <= "~" for ch in key):
        raise ConfigError(f"the API key from {KEY_ENV} or the config file has invalid characters")
    return key
