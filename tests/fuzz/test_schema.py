"""Schemathesis over every operation of the live app's OpenAPI document, on both databases.

Valid and invalid requests as the document describes them, sent with a valid key of a
client that has data; each answer must not be a 500 and must conform to the document
(documented status code, content type and response schema). Seeded and bounded: at most
MAX_EXAMPLES requests per operation and mode.
"""

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine, create_engine

from boxoffice.server.app import create_app
from boxoffice.server.config import Settings
from tests.fuzz.conftest import RESERVED_EVENT, UNRESERVED_EVENT, FuzzTarget, new_target

# Per operation and mode; BOXOFFICE_FUZZ_EXAMPLES=500 for a deeper run by hand.
MAX_EXAMPLES = int(os.environ.get("BOXOFFICE_FUZZ_EXAMPLES", "20"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
PREFIX = "/v1/{client_name}/peppered"


def _can_be_invalid(parameter: dict[str, Any]) -> bool:
    """Whether a parameter has invalid values: any string is a valid path segment."""
    if parameter["name"] == "client_name":
        return False
    schema = parameter.get("schema", {})
    constraints = {k: v for k, v in schema.items() if k not in ("title", "description")}
    return parameter["in"] != "path" or constraints != {"type": "string"}


def _cases() -> list[Any]:
    """(`METHOD /path`, mode) of every operation, from the document of an app without data.

    Invalid input needs a body or a parameter that can be invalid (not the fixed client
    name); operations without one get valid requests only.
    """
    app = create_app(Settings(database_url="sqlite://"), engine=create_engine("sqlite://"))
    cases = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            label = f"{method.upper()} {path}"
            short = f"{method.upper()} {path.removeprefix(PREFIX)}"
            cases.append(pytest.param(label, GenerationMode.POSITIVE, id=f"{short} valid"))
            if "requestBody" in operation or any(
                _can_be_invalid(p) for p in operation.get("parameters", [])
            ):
                cases.append(pytest.param(label, GenerationMode.NEGATIVE, id=f"{short} invalid"))
    return cases


def _valid_bodies(label: str, target: FuzzTarget) -> st.SearchStrategy[Any] | None:
    """Bodies the app accepts, for operations whose schema alone rarely yields one (an email
    address, a price of the catalog, a transition the entry allows)."""
    customers = target.known["customerId"]
    bodies: dict[str, st.SearchStrategy[Any]] = {
        "POST /customer": st.builds(
            lambda n, first: {
                "email": f"fuzz{n}@example.org",
                "customerLastName": "Fuzz",
                "customerFirstName": first,
                "customerCredit": "1.50",
            },
            st.integers(0, 10**9),
            st.none() | st.text(max_size=20),
        ),
        "POST /customer/findByEmail": st.fixed_dictionaries(
            {"email": st.sampled_from(["person0@example.org", "PERSON1@example.org", "x@y.nl"])}
        ),
        "POST /cart/{cartId}": st.lists(
            st.sampled_from(
                [
                    {"priceId": "STD", "rankId": 1, "numberOfTickets": 2},
                    {"priceId": "FREE", "rankId": 2, "eventId": UNRESERVED_EVENT},
                    {"priceId": "donation", "rankId": 0, "amount": "2.50"},
                ]
            ),
            min_size=1,
            max_size=3,
        ),
        "POST /cart/{cartId}/checkout": st.fixed_dictionaries(
            {
                "paymentMethodId": st.sampled_from([1, 2]),
                "customerId": st.none() | st.sampled_from(customers),
                "paid": st.booleans(),
                "orderChannel": st.sampled_from(["www", "sp"]),
            }
        ),
        "POST /waitinglist": st.fixed_dictionaries(
            {
                "customerId": st.sampled_from(customers),
                "eventId": st.sampled_from([RESERVED_EVENT, UNRESERVED_EVENT]),
                "numberOfTickets": st.integers(1, 20),
            }
        ),
        "POST /v1/{client_name}/cart/{cart_id}": st.fixed_dictionaries(
            {
                "event_id": st.sampled_from([UNRESERVED_EVENT, str(UNRESERVED_EVENT)]),
                "numberoftickets": st.integers(1, 3),
            }
        ),
        "POST /v1/{client_name}/order/create": st.fixed_dictionaries(
            {
                "cart_id": st.sampled_from(target.known["order_cart"]),
                "payment_id": st.sampled_from([1, 2]),
                "redirectURL": st.just("https://venue.example/thanks"),
                "email": st.just("person1@example.org"),
                "lastname": st.text(min_size=1, max_size=20).filter(str.strip),
            }
        ),
        "POST /v1/{client_name}/pay/{provider}/{order_key}": st.fixed_dictionaries(
            {"action": st.sampled_from(["pay", "cancel"])}
        ),
        "PUT /waitinglist/{waitingId}": st.fixed_dictionaries(
            {"type": st.sampled_from(["notified", "cancelled", "converted", "expired"])}
        ),
    }
    method, path = label.split(" ", 1)
    return bodies.get(f"{method} {path.removeprefix(PREFIX)}")


@pytest.fixture(scope="module")
def schema(app: FastAPI) -> Iterator[Any]:
    """The live app's document, as the app serves it."""
    yield schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize(("label", "mode"), _cases())
def test_operation_conforms(
    schema: Any,
    target: FuzzTarget,
    app: FastAPI,
    engine: Engine,
    label: str,
    mode: GenerationMode,
) -> None:
    method, path = label.split(" ", 1)
    operation = schema[path][method]
    names = {p.name for p in operation.path_parameters} - {"client_name"}
    if method != "GET" and names:
        # It changes the records it names (erases, checks out, removes): fresh ones each time.
        target = new_target(app, engine)
    fixed = {"client_name": target.client.name}
    strategies = [operation.as_strategy(mode, path_parameters=fixed)]
    known = {name: target.known[name] for name in names}
    valid_body = _valid_bodies(label, target) if mode is GenerationMode.POSITIVE else None
    if known or valid_body is not None:
        # Also requests at the client's real records and with bodies the app accepts, so that
        # the answers that carry data are checked too, not only the errors.
        def at_real_records(ids: dict[str, Any]) -> st.SearchStrategy[Any]:
            path_parameters = {**fixed, **ids}
            if valid_body is None:
                return operation.as_strategy(mode, path_parameters=path_parameters)
            return valid_body.flatmap(
                lambda body: operation.as_strategy(
                    mode, path_parameters=path_parameters, body=body, media_type="application/json"
                )
            )

        ids = st.fixed_dictionaries({n: st.sampled_from(v) for n, v in known.items()})
        strategies.append(ids.flatmap(at_real_records))
    headers = dict(target.client.auth)
    statuses: Counter[int] = Counter()

    @hypothesis.settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        case.validate_response(response, checks=CHECKS, headers=headers)

    run()
    # An operation with nothing to vary (a public list: no key, no parameter but the fixed
    # client name) has one distinct request.
    raw = operation.definition.raw
    fixed_only = "requestBody" not in raw and all(
        p["name"] == "client_name" for p in raw.get("parameters", [])
    )
    assert sum(statuses.values()) >= (1 if fixed_only else min(MAX_EXAMPLES, 5)), statuses
    if mode is GenerationMode.POSITIVE:
        # Not only errors: at least one request reached the data and its answer conformed
        # (for the payment page's form, the redirect back to the venue's site).
        assert any(200 <= status < 300 or status == 303 for status in statuses), statuses
