"""Input as PHP and Laravel clients send it (docs/input.md), on every kind of endpoint.

Each lenient case is read as what it means; each strict case stays a 422 naming the field,
with nothing written.
"""

from typing import Annotated, Any

import pytest
from fastapi import FastAPI, Form
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from boxoffice.server.app import install_error_handlers
from boxoffice.server.lenient import LenientRoute, api_router
from tests.builders import PARKET, RESERVED, Catalog, add_customer, build_catalog
from tests.conftest import Client

Reply = Any  # TestClient's response
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
EXPORTS = ["/export/customers", "/export/orders", "/export/waitinglist"]


@pytest.fixture
def catalog(engine: Engine, client: Client) -> Catalog:
    return build_catalog(engine, client)


def post(http: TestClient, client: Client, path: str, **kwargs: Any) -> Reply:
    headers = {**client.auth, **kwargs.pop("headers", {})}
    return http.post(client.base + path, headers=headers, **kwargs)


def new_cart(http: TestClient, client: Client) -> str:
    response = post(http, client, "/cart")
    assert response.status_code == 201, response.text
    return str(response.json()["cartId"])


def assert_invalid(response: Reply, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert field in body["errors"], body
    assert body["message"]


def test_every_api_route_reads_lenient_input(app: FastAPI) -> None:
    """By construction: a router not made with api_router() fails here."""
    api = [c for c in iter_route_contexts(app.routes) if (c.path or "").startswith("/v1/")]
    assert api
    for context in api:
        assert isinstance(context.original_route, LenientRoute), context.path


# --- Integers as numeric strings, seatId as string or number ------------------------------


def test_cart_items_take_numeric_strings(
    http: TestClient, client: Client, catalog: Catalog
) -> None:
    cart = new_cart(http, client)
    seat = catalog.seat[(PARKET, 3, 4)]
    items = [
        {"priceId": "STD", "rankId": "1", "eventId": str(RESERVED), "numberOfTickets": "2"},
        {"priceId": "STD", "rankId": 1, "eventId": RESERVED, "seatId": str(seat)},
        {"priceId": "RED", "rankId": " 1 ", "eventId": RESERVED, "seatId": seat + 1},
    ]
    response = post(http, client, f"/cart/{cart}", json=items)
    assert response.status_code == 200, response.text
    lines = response.json()["cartItems"]
    assert len(lines) == 4
    assert {(line["rowNr"], line["seatNr"]) for line in lines} >= {(3, 4), (3, 5)}


def test_checkout_takes_numeric_strings_and_laravel_booleans(
    http: TestClient, engine: Engine, client: Client, catalog: Catalog
) -> None:
    customer = add_customer(engine, client)
    cart = new_cart(http, client)
    added = post(http, client, f"/cart/{cart}", json=[{"priceId": "STD", "rankId": "1"}])
    assert added.status_code == 200, added.text
    body = {"paymentMethodId": "2", "customerId": str(customer), "paid": "1"}
    response = post(http, client, f"/cart/{cart}/checkout", json=body)
    assert response.status_code == 201, response.text
    order = response.json()
    assert order["customerId"] == customer
    assert order["orderPaymentStatus"] == "paid"
    assert order["fee"] == 2.5


def test_an_empty_string_is_null(http: TestClient, client: Client, catalog: Catalog) -> None:
    cart = new_cart(http, client)
    post(http, client, f"/cart/{cart}", json=[{"priceId": "STD", "rankId": 1}])
    body = {"paymentMethodId": 1, "customerId": ""}
    response = post(http, client, f"/cart/{cart}/checkout", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["customerId"] is None


def test_waiting_list_takes_numeric_strings(
    http: TestClient, engine: Engine, client: Client, catalog: Catalog
) -> None:
    customer = add_customer(engine, client)
    body = {"customerId": str(customer), "eventId": str(RESERVED), "numberOfTickets": "3"}
    response = post(http, client, "/waitinglist", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["numberOfTickets"] == 3


def test_export_limit_takes_a_numeric_string(
    http: TestClient, engine: Engine, client: Client
) -> None:
    add_customer(engine, client, "a@example.org")
    add_customer(engine, client, "b@example.org")
    response = post(http, client, "/export/customers", json={"limit": "1"})
    assert response.status_code == 200, response.text
    assert len(response.json()) == 1
    assert response.headers["X-Next-Cursor"]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"priceId": "STD", "rankId": "1.0"}, "0.rankId"),
        ({"priceId": "STD", "rankId": "one"}, "0.rankId"),
        ({"priceId": "STD", "rankId": 1.0}, "0.rankId"),
        ({"priceId": "STD", "rankId": True}, "0.rankId"),
        ({"priceId": "STD", "rankId": ["1"]}, "0.rankId"),
        ({"priceId": "STD", "rankId": ""}, "0.rankId"),
        ({"priceId": "STD", "rankId": "1", "numberOfTickets": "21"}, "0.numberOfTickets"),
        ({"priceId": "STD", "rankId": "1", "numberOfTickets": "0"}, "0.numberOfTickets"),
        ({"priceId": "STD", "rankId": "1", "seatId": "-3"}, "0.seatId"),
        ({"priceId": "STD", "rankId": "1", "seatId": "A12"}, "0.seatId"),
        ({"priceId": "STD", "rankId": "1", "seatId": "99999999999999999999"}, "0.seatId"),
        ({"priceId": 5, "rankId": "1"}, "0.priceId"),
        ({"priceId": "STD", "rankId": "1", "colour": "red"}, "0.colour"),
    ],
)
def test_strictness_stays_where_it_protects(
    http: TestClient, client: Client, catalog: Catalog, line: dict[str, Any], field: str
) -> None:
    cart = new_cart(http, client)
    assert_invalid(post(http, client, f"/cart/{cart}", json=[line]), field)
    assert http.get(f"{client.base}/cart/{cart}", headers=client.auth).json()["cartItems"] == []


@pytest.mark.parametrize("paid", ["yes", 2, "2", "on", 1.0])
def test_a_boolean_is_laravels_boolean_and_nothing_else(
    http: TestClient, client: Client, catalog: Catalog, paid: Any
) -> None:
    cart = new_cart(http, client)
    post(http, client, f"/cart/{cart}", json=[{"priceId": "STD", "rankId": 1}])
    body = {"paymentMethodId": 1, "paid": paid}
    assert_invalid(post(http, client, f"/cart/{cart}/checkout", json=body), "paid")


# --- [] / null / no body as "no parameters" -----------------------------------------------


@pytest.mark.parametrize("path", EXPORTS)
@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"[]", "application/json"),
        (b"null", "application/json"),
        (b"", "application/json"),
        (b"", None),
        (b" [ ] ", "application/json"),
        (b"[]", "application/x-www-form-urlencoded"),
        (b"", "application/x-www-form-urlencoded"),
    ],
)
def test_no_parameters_is_the_whole_export(
    http: TestClient,
    engine: Engine,
    client: Client,
    path: str,
    content: bytes,
    content_type: str | None,
) -> None:
    add_customer(engine, client)
    expected = post(http, client, path, json={})
    assert expected.status_code == 200, expected.text
    headers = {} if content_type is None else {"Content-Type": content_type}
    response = post(http, client, path, content=content, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json() == expected.json()


def test_no_parameters_on_a_body_less_write(http: TestClient, client: Client) -> None:
    for content in (b"[]", b"null", b"{}", b""):
        response = post(http, client, "/cart", content=content, headers=FORM)
        assert response.status_code == 201, response.text
    assert_invalid(post(http, client, "/cart", json={"eventId": 1}), "eventId")


def test_an_object_with_list_keys_is_a_list(
    http: TestClient, client: Client, catalog: Catalog
) -> None:
    """PHP encodes an array whose keys are not 0..n-1 as a JSON object."""
    cart = new_cart(http, client)
    items = {"1": {"priceId": "R2", "rankId": 2}, "0": {"priceId": "STD", "rankId": 1}}
    response = post(http, client, f"/cart/{cart}", json=items)
    assert response.status_code == 200, response.text
    assert [line["priceId"] for line in response.json()["cartItems"]] == ["STD", "R2"]


# --- Form-encoded bodies --------------------------------------------------------------------


def test_form_bodies_everywhere(
    http: TestClient, engine: Engine, client: Client, catalog: Catalog
) -> None:
    created = post(
        http,
        client,
        "/customer",
        content="email=form%40example.org&customerLastName=Form&customerCredit=2.50",
        headers=FORM,
    )
    assert created.status_code == 201, created.text
    customer = created.json()["customerId"]
    assert created.json()["customerCredit"] == 2.5

    tags = post(http, client, f"/customer/{customer}/clienttypes", data={"0": "vip", "1": "friend"})
    assert tags.status_code == 200, tags.text
    assert tags.json() == ["friend", "vip"]

    cart = new_cart(http, client)
    # PHP's http_build_query of a list of items: 0[priceId]=STD&0[rankId]=1&...
    form = (
        "0%5BpriceId%5D=STD&0%5BrankId%5D=1&0%5BnumberOfTickets%5D=2"
        "&1%5BpriceId%5D=donation&1%5BrankId%5D=0&1%5Bamount%5D=5.00"
    )
    added = post(http, client, f"/cart/{cart}", content=form, headers=FORM)
    assert added.status_code == 200, added.text
    assert added.json()["amount"] == 54.0

    checkout = f"paymentMethodId=1&customerId={customer}&paid=1&orderChannel=sp"
    placed = post(http, client, f"/cart/{cart}/checkout", content=checkout, headers=FORM)
    assert placed.status_code == 201, placed.text
    assert placed.json()["orderPaymentStatus"] == "paid"

    since = "changedSince=2000-01-01T00%3A00%3A00%2B01%3A00"
    export = post(http, client, "/export/orders", content=since, headers=FORM)
    assert export.status_code == 200, export.text
    assert [o["orderId"] for o in export.json()] == [placed.json()["orderId"]]

    waiting = post(
        http,
        client,
        "/waitinglist",
        files={"customerId": (None, str(customer)), "eventId": (None, str(RESERVED))},
        data={"numberOfTickets": "2"},
    )
    assert waiting.status_code == 201, waiting.text


def test_a_json_body_labelled_as_a_form_is_json(http: TestClient, client: Client) -> None:
    """What `curl -d '{...}'` sends."""
    body = b'{"email": "curl@example.org", "customerLastName": "Curl"}'
    response = post(http, client, "/customer", content=body, headers=FORM)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("form", "field"),
    [
        ("email=bad&customerLastName=X", "email"),
        ("email=a%40example.org", "customerLastName"),
        ("email=a%40example.org&customerLastName=X&colour=red", "colour"),
        ("email=a%40example.org&customerLastName=X&customerCredit=1.001", "customerCredit"),
        ("email=a%40example.org&customerLastName=X&email=b%40example.org", "email"),
        ("email[a][b][c][d][e][f][g]=1", "body"),
    ],
)
def test_form_bodies_stay_strict(http: TestClient, client: Client, form: str, field: str) -> None:
    assert_invalid(post(http, client, "/customer", content=form, headers=FORM), field)
    found = post(http, client, "/customer/findByEmail", json={"email": "a@example.org"})
    assert found.status_code == 404


def test_a_file_in_a_form_is_refused(http: TestClient, client: Client) -> None:
    files = {"email": ("x.txt", b"a@example.org", "text/plain")}
    response = post(http, client, "/customer", files=files, data={"customerLastName": "X"})
    assert_invalid(response, "email")


# --- Trailing slashes ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/export/orders"),
        ("POST", "/export/customers"),
        ("GET", "/export/clienttypes"),
        ("GET", "/order"),
        ("GET", f"/event/{RESERVED}"),
        ("GET", "/hall"),
        ("GET", "/paymentmethods"),
    ],
)
def test_a_trailing_slash_is_the_same_path(
    http: TestClient, client: Client, catalog: Catalog, method: str, path: str
) -> None:
    plain = http.request(method, client.base + path, headers=client.auth)
    assert plain.status_code == 200, plain.text
    for slashed in (path + "/", path + "//"):
        response = http.request(
            method, client.base + slashed, headers=client.auth, follow_redirects=False
        )
        assert response.status_code == 200, (slashed, response.status_code, response.text)
        assert response.json() == plain.json()


def test_a_trailing_slash_keeps_the_body(
    http: TestClient, client: Client, catalog: Catalog
) -> None:
    cart = new_cart(http, client)
    response = post(http, client, f"/cart/{cart}/", json=[{"priceId": "STD", "rankId": "1"}])
    assert response.status_code == 200, response.text
    assert response.json()["numberOfItems"] == 1
    unknown = http.get(client.base + "/nothing/", headers=client.auth, follow_redirects=False)
    assert unknown.status_code == 404


# --- Query-string parameters on a POST: honoured, or a 422 naming them -----------------------


def test_a_query_parameter_on_an_export_is_honoured(
    http: TestClient, engine: Engine, client: Client
) -> None:
    add_customer(engine, client)
    everything = post(http, client, "/export/customers")
    assert len(everything.json()) == 1
    later = post(http, client, "/export/customers?changedSince=2999-01-01", json=[])
    assert later.status_code == 200, later.text
    assert later.json() == []
    # The same value in both places is one parameter.
    same = post(
        http,
        client,
        "/export/customers?changedSince=2999-01-01",
        json={"changedSince": "2999-01-01"},
    )
    assert same.status_code == 200 and same.json() == []
    numeric = post(http, client, "/export/customers?limit=1", json={"limit": 1})
    assert numeric.status_code == 200, numeric.text
    # An unencoded `+` in the query string arrives as a space: read as the offset.
    plus = post(http, client, "/export/customers?changedSince=2999-01-01T00:00:00+01:00")
    assert plus.status_code == 200, plus.text
    assert plus.json() == []


def test_a_query_parameter_on_a_post_is_never_ignored(
    http: TestClient, client: Client, catalog: Catalog
) -> None:
    conflict = post(
        http, client, "/export/orders?changedSince=2999-01-01", json={"changedSince": "2000-01-01"}
    )
    assert_invalid(conflict, "changedSince")
    assert_invalid(post(http, client, "/export/orders?since=2026-01-01"), "since")
    cart = new_cart(http, client)
    items = [{"priceId": "STD", "rankId": 1}]
    assert_invalid(post(http, client, f"/cart/{cart}?eventId={RESERVED}", json=items), "eventId")
    assert_invalid(post(http, client, "/cart?hold=30"), "hold")
    removed = http.delete(f"{client.base}/cart/{cart}?force=1", headers=client.auth)
    assert_invalid(removed, "force")
    assert http.get(f"{client.base}/cart/{cart}", headers=client.auth).status_code == 200


# --- An unencoded + in GET /order?changedSince= -------------------------------------------


def test_an_unencoded_plus_in_a_query_is_the_offset(
    http: TestClient, client: Client, catalog: Catalog
) -> None:
    cart = new_cart(http, client)
    post(http, client, f"/cart/{cart}", json=[{"priceId": "STD", "rankId": 1}])
    placed = post(http, client, f"/cart/{cart}/checkout", json={"paymentMethodId": 1})
    assert placed.status_code == 201, placed.text
    base = f"{client.base}/order?changedSince="
    for bound, count in (("2000-01-01T00:00:00+01:00", 1), ("2999-01-01T00:00:00+01:00", 0)):
        raw = http.get(base + bound, headers=client.auth)
        assert raw.status_code == 200, raw.text
        assert len(raw.json()) == count
        encoded = http.get(base + bound.replace("+", "%2B"), headers=client.auth)
        assert raw.json() == encoded.json()
    # A space that is not before an offset is still not a date.
    bad = http.get(base + "2026-01-01+junk", headers=client.auth)
    assert_invalid(bad, "changedSince")


def test_puts_take_forms_and_query_parameters(
    http: TestClient, engine: Engine, client: Client, catalog: Catalog
) -> None:
    customer = add_customer(engine, client)
    changed = http.put(
        f"{client.base}/customer/{customer}?customerCity=Utrecht",
        content="customerFirstName=Grace&customerCredit=1.25",
        headers={**client.auth, **FORM},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["customerFirstName"], body["customerCity"], body["customerCredit"]) == (
        "Grace",
        "Utrecht",
        1.25,
    )
    cart = new_cart(http, client)
    post(http, client, f"/cart/{cart}", json=[{"priceId": "STD", "rankId": 1}])
    order = post(http, client, f"/cart/{cart}/checkout", json={"paymentMethodId": 1}).json()
    cancelled = http.put(
        f"{client.base}/order/{order['orderId']}/?orderStatus=cancel", headers=client.auth
    )
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["orderStatus"] == "cancel"
    refused = http.put(
        f"{client.base}/order/{order['orderId']}?orderState=ord", json=[], headers=client.auth
    )
    assert_invalid(refused, "orderState")


def test_the_public_api_takes_a_trailing_slash(
    http: TestClient, client: Client, catalog: Catalog
) -> None:
    for path in ("/locations", "/events", "/paymentmethods"):
        plain = http.get(f"/v1/{client.name}{path}")
        assert plain.status_code == 200, plain.text
        slashed = http.get(f"/v1/{client.name}{path}/", follow_redirects=False)
        assert slashed.status_code == 200, slashed.text
        assert slashed.json() == plain.json()


def test_a_route_that_reads_a_form_itself_gets_it_as_sent() -> None:
    """An HTML page's POST (a payment page's buttons): Form() parameters, left alone."""
    router = api_router()

    @router.post("/pay/{token}")
    def pay(token: str, action: Annotated[str, Form()]) -> dict[str, str]:
        return {"token": token, "action": action}

    app = FastAPI()
    install_error_handlers(app)
    app.include_router(router)
    with TestClient(app) as http:
        response = http.post("/pay/abc", data={"action": "cancel"})
        assert response.status_code == 200, response.text
        assert response.json() == {"token": "abc", "action": "cancel"}
        refused = http.post("/pay/abc?action=pay", data={"action": "cancel"})
        assert_invalid(refused, "action")


def test_an_unencoded_plus_in_an_event_search_is_the_offset(
    http: TestClient, client: Client, catalog: Catalog
) -> None:
    base = f"{client.base}/event?startDate="
    raw = http.get(base + "2030-04-01T00:00:00+02:00", headers=client.auth)
    assert raw.status_code == 200, raw.text
    assert RESERVED in [event["eventId"] for event in raw.json()]
    encoded = http.get(base + "2030-04-01T00:00:00%2B02:00", headers=client.auth)
    assert raw.json() == encoded.json()
