"""The one way a secret is kept out of text the sync shows or logs: masked as ***."""

from urllib.parse import urlsplit, urlunsplit

MASK = "***"


def redact(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` (the API key) masked."""
    return text.replace(secret, MASK) if secret else text


def redact_url(url: str) -> str:
    """A database URL without its password, fit to print."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{host}"))
