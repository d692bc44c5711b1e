"""GET and POST /customer/{id}/clienttypes: replace semantics against the client's vocabulary."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from tests.conftest import Client
from tests.customers.conftest import add_vocabulary, create_customer, last_changed, stored


def tags_url(client: Client, customer_id: int) -> str:
    return f"{client.base}/customer/{customer_id}/clienttypes"


def set_tags(http: TestClient, client: Client, customer_id: int, body: Any) -> Any:
    return http.post(tags_url(client, customer_id), json=body, headers=client.auth)


def test_a_new_customer_has_no_tags(
    http: TestClient, client: Client, vocabulary: tuple[str, ...]
) -> None:
    anna = create_customer(http, client)
    response = http.get(tags_url(client, anna["customerId"]), headers=client.auth)
    assert response.status_code == 200
    assert response.json() == []


def test_post_replaces_the_set_and_returns_it_sorted(
    http: TestClient, engine: Engine, client: Client, vocabulary: tuple[str, ...]
) -> None:
    anna = create_customer(http, client)
    customer_id = anna["customerId"]
    response = set_tags(http, client, customer_id, ["vip", "friend", "vip"])
    assert response.status_code == 200
    assert response.json() == ["friend", "vip"]
    response = set_tags(http, client, customer_id, ["press", "friend"])
    assert response.json() == ["friend", "press"]
    assert http.get(tags_url(client, customer_id), headers=client.auth).json() == [
        "friend",
        "press",
    ]
    resource = http.get(f"{client.base}/customer/{customer_id}", headers=client.auth).json()
    assert resource["clientTypes"] == ["friend", "press"]
    assert stored(engine, client)[1] == [(customer_id, "friend"), (customer_id, "press")]
    assert set_tags(http, client, customer_id, []).json() == []
    assert stored(engine, client)[1] == []


def test_a_change_of_tags_moves_last_changed_of_that_customer_only(
    http: TestClient, engine: Engine, client: Client, vocabulary: tuple[str, ...]
) -> None:
    anna = create_customer(http, client, email="anna@example.org")
    bert = create_customer(http, client, email="bert@example.org")
    set_tags(http, client, bert["customerId"], ["donor"])
    anna_before, bert_before = (last_changed(engine, c["customerId"]) for c in (anna, bert))
    set_tags(http, client, anna["customerId"], ["friend"])
    assert last_changed(engine, anna["customerId"]) > anna_before
    assert last_changed(engine, bert["customerId"]) == bert_before


@pytest.mark.parametrize("same", [["vip", "friend"], ["friend", "vip", "friend"]], ids=repr)
def test_posting_the_same_set_changes_nothing(
    http: TestClient,
    engine: Engine,
    client: Client,
    vocabulary: tuple[str, ...],
    same: list[str],
) -> None:
    anna = create_customer(http, client)
    set_tags(http, client, anna["customerId"], ["friend", "vip"])
    before = stored(engine, client)
    response = set_tags(http, client, anna["customerId"], same)
    assert response.status_code == 200
    assert response.json() == ["friend", "vip"]
    assert stored(engine, client) == before


def test_unknown_tags_are_a_422_naming_them_and_nothing_is_written(
    http: TestClient,
    engine: Engine,
    client: Client,
    other_client: Client,
    vocabulary: tuple[str, ...],
) -> None:
    add_vocabulary(engine, other_client, ("theirs",))
    anna = create_customer(http, client)
    set_tags(http, client, anna["customerId"], ["friend"])
    before = stored(engine, client)
    # "theirs" is another client's tag; "VIP" differs from "vip" (tags match exactly).
    response = set_tags(http, client, anna["customerId"], ["vip", "theirs", "VIP", "x\x00"])
    assert response.status_code == 422
    problems = response.json()["errors"]["clientTypes"]
    assert len(problems) == 3
    for name in ("'theirs'", "'VIP'", "'x\\x00'"):
        assert any(name in problem for problem in problems), (name, problems)
    assert response.json()["message"] == "Unknown client types: 'VIP', 'theirs', 'x\\x00'."
    assert stored(engine, client) == before


@pytest.mark.parametrize("body", [["vip", 3], [None], {"tags": ["vip"]}, "vip"], ids=repr)
def test_a_body_that_is_not_an_array_of_strings_is_a_422(
    http: TestClient,
    engine: Engine,
    client: Client,
    vocabulary: tuple[str, ...],
    body: Any,
) -> None:
    anna = create_customer(http, client)
    before = stored(engine, client)
    response = set_tags(http, client, anna["customerId"], body)
    assert response.status_code == 422
    assert response.json()["errors"]
    assert stored(engine, client) == before


def test_other_clients_customer_is_a_404(
    http: TestClient, engine: Engine, client: Client, other_client: Client
) -> None:
    add_vocabulary(engine, client)
    add_vocabulary(engine, other_client)
    theirs = create_customer(http, other_client)
    before = stored(engine, other_client)
    for customer_id in (theirs["customerId"], 2_000_000_000):
        get = http.get(tags_url(client, customer_id), headers=client.auth)
        post = set_tags(http, client, customer_id, ["vip"])
        for response in (get, post):
            assert response.status_code == 404
            assert response.json() == {"message": "Customer not found."}
    assert stored(engine, other_client) == before
