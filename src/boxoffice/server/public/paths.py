"""Which request paths belong to the public API: /v1/{client}/..., except the Peppered API."""

from boxoffice.server.paths import PEPPERED_PATH, PUBLIC_PATH, PUBLIC_PREFIX

__all__ = ["PUBLIC_PREFIX", "is_public_path"]


def is_public_path(path: str) -> bool:
    return PUBLIC_PATH.match(path) is not None and PEPPERED_PATH.match(path) is None
