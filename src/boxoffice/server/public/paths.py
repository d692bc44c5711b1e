"""Which request paths belong to the public API: /v1/{client}/..., except the Peppered API."""

import re

PUBLIC_PREFIX = "/v1/{client_name}"

_PUBLIC_PATH = re.compile(r"^/v1/[^/]+(?:/|$)")
_PEPPERED_PATH = re.compile(r"^/v1/[^/]*/peppered(?:/|$)")


def is_public_path(path: str) -> bool:
    return _PUBLIC_PATH.match(path) is not None and _PEPPERED_PATH.match(path) is None
