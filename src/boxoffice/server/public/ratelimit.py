"""The public API's per-address limit: who a public request counts against.

The counting is the key limit's (ops: SharedBudget, leased in slices from the database), so
every worker, and every server on one database, shares one budget per address.
"""

from starlette.types import Scope

from boxoffice.server.ops.ratelimit import Identify
from boxoffice.server.public.paths import is_public_path
from boxoffice.server.tenancy.principal import principal_of


def per_address(limit: int) -> Identify:
    """A public request counts against its client address; other paths are not counted."""

    def identify(scope: Scope) -> tuple[str, int] | None:
        if not is_public_path(scope["path"]):
            return None
        return principal_of(scope).address, limit

    return identify
