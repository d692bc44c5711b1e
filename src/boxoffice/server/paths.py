"""The APIs' URL shapes, declared once: the prefixes routers mount at, the patterns of paths.

Middleware runs before routing, so it recognises an API's paths by these patterns; the
routers are mounted at the prefixes they are made from.
"""

import re

# Every API path starts so: the rate limit on failed authentication counts under it.
API_ROOT = "/v1/"
PEPPERED_PREFIX = API_ROOT + "{client_name}/peppered"
PUBLIC_PREFIX = API_ROOT + "{client_name}"
# The ticket host's paths a venue's site calls (VoordeMensen's WordPress plugin): its API
# (get-session, cart count) and the scripts that open the shop in an overlay.
TICKET_HOST_API_PREFIX = "/api/{client_name}"
EMBED_SCRIPTS_PREFIX = "/{client_name}/iframes"


def _pattern(prefix: str, client_name: str) -> re.Pattern[str]:
    """The paths under `prefix`, with the client name's segment matched by `client_name`."""
    before, _, after = prefix.partition("{client_name}")
    return re.compile(f"^{re.escape(before)}{client_name}{re.escape(after)}(?:/|$)")


# A Peppered path, its client name captured (authentication reads it before routing).
PEPPERED_PATH = _pattern(PEPPERED_PREFIX, "([^/]*)")
# A path under the public prefix; one that is also a Peppered path is not public.
PUBLIC_PATH = _pattern(PUBLIC_PREFIX, "[^/]+")
# A path of the ticket host's API: keyless, like the public API.
TICKET_HOST_API_PATH = _pattern(TICKET_HOST_API_PREFIX, "[^/]+")
