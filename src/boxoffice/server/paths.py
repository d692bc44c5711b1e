"""The APIs' URL shapes, declared once: the prefixes routers mount at, the patterns of paths.

Middleware runs before routing, so it recognises an API's paths by these patterns; the
routers are mounted at the prefixes they are made from.
"""

import re

# Every API path starts so: the rate limit on failed authentication counts under it.
API_ROOT = "/v1/"
PEPPERED_PREFIX = API_ROOT + "{client_name}/peppered"
PUBLIC_PREFIX = API_ROOT + "{client_name}"


def _pattern(prefix: str, client_name: str) -> re.Pattern[str]:
    """The paths under `prefix`, with the client name's segment matched by `client_name`."""
    before, _, after = prefix.partition("{client_name}")
    return re.compile(f"^{re.escape(before)}{client_name}{re.escape(after)}(?:/|$)")


# A Peppered path, its client name captured (authentication reads it before routing).
PEPPERED_PATH = _pattern(PEPPERED_PREFIX, "([^/]*)")
# A path under the public prefix; one that is also a Peppered path is not public.
PUBLIC_PATH = _pattern(PUBLIC_PREFIX, "[^/]+")
