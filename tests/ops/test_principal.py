"""The request's principal: put in the scope once, replaced only when a key is verified."""

from zoneinfo import ZoneInfo

from starlette.types import Scope

from boxoffice.server.tenancy.principal import Principal, authenticate_principal, principal_of
from boxoffice.server.tenancy.service import Tenant, VerifiedKey


def _scope() -> Scope:
    return {"type": "http", "client": ("192.0.2.7", 50000), "headers": []}


def test_an_unauthenticated_request_is_its_address() -> None:
    scope = _scope()
    principal = principal_of(scope)
    assert principal == Principal(address="192.0.2.7")
    assert principal_of(scope) is principal
    assert principal_of({"type": "http"}).address == "unknown"


def test_a_verified_key_adds_its_client_and_prefix_to_the_same_address() -> None:
    scope = _scope()
    principal_of(scope)
    tenant = Tenant(id=3, name="theater", timezone=ZoneInfo("Europe/Amsterdam"))
    authenticate_principal(scope, VerifiedKey(tenant, "abcd1234", 1200))
    assert principal_of(scope) == Principal("192.0.2.7", tenant, "abcd1234", 1200)
