"""The ticket host's API of an embedded shop, as VoordeMensen's WordPress plugin calls it:
GET /api/{client}/get-session?token=... and GET /api/{client}/cart/{session_id}."""

import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from boxoffice.server.app import create_app
from boxoffice.server.carts.tables import carts
from boxoffice.server.config import Settings
from boxoffice.server.db.engine import make_engine
from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.embed.scripts import SCRIPTS
from boxoffice.server.embed.service import token_hash
from boxoffice.server.embed.tables import embed_sessions
from tests.builders import RESERVED, SHOP_INVOICE, UNRESERVED, build_shop_catalog
from tests.conftest import Client, new_client
from tests.threads import WRITERS, run_together

NOT_FOUND = {"message": "Not found."}


def token() -> str:
    """A visitor token as the WordPress plugin makes one: 16 random bytes in hex."""
    return uuid.uuid4().hex


def get_session(http: TestClient, client: Client, visitor: str) -> str:
    response = http.get(f"/api/{client.name}/get-session", params={"token": visitor})
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert list(body) == ["session_id"]
    return str(body["session_id"])


def basket(http: TestClient, client: Client, session_id: str) -> list[dict[str, Any]]:
    response = http.get(f"/api/{client.name}/cart/{session_id}")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: list[dict[str, Any]] = response.json()
    return body


def count(body: list[dict[str, Any]]) -> int:
    """What the plugin shows: `Object.keys(response).length - 1`."""
    return len(body) - 1


def add_tickets(http: TestClient, client: Client, session_id: str, n: int) -> None:
    response = http.post(
        f"/v1/{client.name}/cart/{session_id}",
        json={"event_id": UNRESERVED, "numberoftickets": n},
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def shop(engine: Engine, client: Client) -> Client:
    build_shop_catalog(engine, client)
    return client


def sessions_of(engine: Engine, client: Client) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(embed_sessions)
                .where(embed_sessions.c.tenant_id == client.tenant.id)
            ).scalar_one()
        )


def test_the_same_token_gets_the_same_session_and_it_is_a_public_cart(
    http: TestClient, shop: Client
) -> None:
    visitor = token()
    session = get_session(http, shop, visitor)
    assert get_session(http, shop, visitor) == session
    assert get_session(http, shop, token()) != session
    # The session is a cart of the public API: the shop fills it, the count follows.
    assert basket(http, shop, session) == [{"cart": 0}]
    assert count(basket(http, shop, session)) == 0
    add_tickets(http, shop, session, 2)
    body = basket(http, shop, session)
    assert count(body) == 2
    assert body[-1] == {"totalprice": "30.00"}
    assert [line["event_id"] for line in body[:-1]] == [UNRESERVED, UNRESERVED]
    assert body == http.get(f"/v1/{shop.name}/cart/{session}").json()
    assert get_session(http, shop, visitor) == session


def test_the_token_is_stored_hashed(http: TestClient, engine: Engine, shop: Client) -> None:
    visitor = token()
    session = get_session(http, shop, visitor)
    with engine.connect() as conn:
        rows = conn.execute(
            select(embed_sessions.c.token_hash, embed_sessions.c.cart_id).where(
                embed_sessions.c.tenant_id == shop.tenant.id
            )
        ).all()
    assert [tuple(row) for row in rows] == [(token_hash(visitor), session)]
    assert visitor not in token_hash(visitor)


def test_a_checked_out_session_gives_way_to_a_new_one(http: TestClient, shop: Client) -> None:
    visitor = token()
    session = get_session(http, shop, visitor)
    add_tickets(http, shop, session, 1)
    placed = http.post(
        f"/v1/{shop.name}/order/create",
        json={
            "cart_id": session,
            "payment_id": SHOP_INVOICE,
            "redirectURL": "https://venue.example/thanks",
            "email": "buyer@example.org",
            "lastname": "Buyer",
        },
    )
    assert placed.status_code == 200, placed.text
    # The ordered cart counts as an empty basket; the token gets a new, empty session.
    assert basket(http, shop, session) == [{"cart": 0}]
    renewed = get_session(http, shop, visitor)
    assert renewed != session
    assert basket(http, shop, renewed) == [{"cart": 0}]
    add_tickets(http, shop, renewed, 1)
    assert count(basket(http, shop, renewed)) == 1
    assert get_session(http, shop, visitor) == renewed


def test_an_expired_session_gives_way_to_a_new_one(
    http: TestClient, engine: Engine, shop: Client
) -> None:
    visitor = token()
    session = get_session(http, shop, visitor)
    add_tickets(http, shop, session, 2)
    # Its hold runs out: the stored expiry moves into the past (the clock is left alone).
    with write_transaction(engine) as tx:
        tx.conn.execute(update(carts).where(carts.c.id == session).values(expires_at=tx.now - 1))
    assert basket(http, shop, session) == [{"cart": 0}]
    renewed = get_session(http, shop, visitor)
    assert renewed != session
    add_tickets(http, shop, renewed, 1)
    assert count(basket(http, shop, renewed)) == 1


def test_clients_do_not_share_tokens_or_sessions(
    http: TestClient, engine: Engine, shop: Client
) -> None:
    other = new_client(engine)
    build_shop_catalog(engine, other)
    visitor = token()
    mine = get_session(http, shop, visitor)
    add_tickets(http, shop, mine, 2)
    theirs = get_session(http, other, visitor)
    assert theirs != mine
    # My session under the other client is an unknown session there: an empty basket, as
    # for a session that never was.
    assert basket(http, other, mine) == basket(http, other, "NoSuchSessionNoSuchSession000000")
    assert basket(http, other, mine) == [{"cart": 0}]
    assert count(basket(http, shop, mine)) == 2
    assert get_session(http, shop, visitor) == mine


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({}, "The token query parameter is required"),
        ({"token": ""}, "The token query parameter is required"),
        ({"token": "x" * 129}, "The token is too long: at most 128 characters."),
        ({"token": "two words"}, "The token may hold only visible ASCII characters"),
        ({"token": "caf\u00e9"}, "The token may hold only visible ASCII characters"),
    ],
)
def test_a_bad_token_is_a_422_and_writes_nothing(
    http: TestClient, engine: Engine, shop: Client, query: dict[str, str], message: str
) -> None:
    response = http.get(f"/api/{shop.name}/get-session", params=query)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["message"].startswith(message)
    assert list(body["errors"]) == ["token"]
    assert sessions_of(engine, shop) == 0


def test_the_longest_token_is_taken(http: TestClient, shop: Client) -> None:
    longest = "~" * 128
    assert get_session(http, shop, longest) == get_session(http, shop, longest)


def test_an_unknown_client_is_a_404_everywhere(http: TestClient) -> None:
    for path in (
        "/api/no-such-client/get-session?token=abc",
        "/api/no-such-client/cart/NoSuchSessionNoSuchSession000000",
        "/no-such-client/iframes/vdm_loader.js",
        "/no-such-client/iframes/vdm_sideloader.js",
        "/api/Not%20A%20Name/get-session?token=abc",
    ):
        response = http.get(path)
        assert response.status_code == 404, (path, response.text)
        assert response.json() == NOT_FOUND


def test_the_api_is_open_to_any_sites_browser(http: TestClient, shop: Client) -> None:
    visitor = token()
    response = http.get(
        f"/api/{shop.name}/get-session",
        params={"token": visitor},
        headers={"Origin": "https://venue.example"},
    )
    assert response.headers["access-control-allow-origin"] == "*"
    session = response.json()["session_id"]
    reply = http.get(f"/api/{shop.name}/cart/{session}")
    assert reply.headers["access-control-allow-origin"] == "*"
    preflight = http.options(
        f"/api/{shop.name}/cart/{session}",
        headers={"Origin": "https://venue.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"


def test_the_api_is_limited_per_address_like_the_public_api(
    database_url: str, engine: Engine, shop: Client
) -> None:
    settings = Settings(
        database_url=database_url,
        public_rate_limit_requests=3,
        public_rate_limit_window_seconds=10**9,
        rate_limit_per_minute=0,
        auth_failure_limit_per_minute=0,
    )
    app = create_app(settings, engine=make_engine(database_url))
    address = (f"203.0.113.{uuid.uuid4().int % 250 + 1}-{uuid.uuid4().hex[:8]}", 40000)
    try:
        with TestClient(app, base_url="http://127.0.0.1", client=address) as limited:
            visitor = token()
            statuses = [
                limited.get(f"/api/{shop.name}/get-session", params={"token": visitor}).status_code,
                limited.get(f"/v1/{shop.name}/events").status_code,
                limited.get(f"/api/{shop.name}/cart/NoSuchSession").status_code,
            ]
            refused = limited.get(f"/api/{shop.name}/get-session", params={"token": visitor})
    finally:
        app.state.engine.dispose()
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["access-control-allow-origin"] == "*"


def test_concurrent_first_calls_of_one_token_agree_on_one_session(
    http: TestClient, engine: Engine, shop: Client
) -> None:
    visitor = token()
    got: list[str | None] = [None] * WRITERS

    def work(i: int) -> None:
        got[i] = get_session(http, shop, visitor)

    assert run_together(work) == [None] * WRITERS
    assert len(set(got)) == 1
    assert sessions_of(engine, shop) == 1
    # The losers' carts were closed, not left open.
    with engine.connect() as conn:
        open_carts = conn.execute(
            select(carts.c.id).where(
                carts.c.tenant_id == shop.tenant.id, carts.c.closed_at.is_(None)
            )
        ).scalars()
        assert list(open_carts) == got[:1]


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_the_loader_scripts_are_javascript_and_cached(
    http: TestClient, shop: Client, name: str, tmp_path: Path
) -> None:
    url = f"/{shop.name}/iframes/{name}"
    response = http.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "window.vdm_order = open;" in response.text
    assert "__DIALOG_STYLE__" not in response.text
    etag = response.headers["etag"]
    again = http.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert http.get(url, headers={"If-None-Match": '"stale"'}).status_code == 200
    node = shutil.which("node")
    if node is not None:
        script = tmp_path / name
        script.write_bytes(response.content)
        checked = subprocess.run([node, "--check", str(script)], capture_output=True, check=False)
        assert checked.returncode == 0, checked.stderr


def test_the_two_scripts_differ_only_in_the_dialogs_box(http: TestClient, shop: Client) -> None:
    full = http.get(f"/{shop.name}/iframes/vdm_loader.js").text
    side = http.get(f"/{shop.name}/iframes/vdm_sideloader.js").text
    assert full != side
    assert '"left": "0"' in full and "min(30rem, 100%)" in side
    differing = [
        (a, b) for a, b in zip(full.splitlines(), side.splitlines(), strict=True) if a != b
    ]
    assert len(differing) == 2, differing  # the comment naming the script, the dialog's box


def test_an_unknown_script_is_a_404(http: TestClient, shop: Client) -> None:
    for name in ("vdm_other.js", "loader.js", "VDM_LOADER.JS"):
        response = http.get(f"/{shop.name}/iframes/{name}")
        assert response.status_code == 404
        assert response.json() == NOT_FOUND


def test_reserved_seats_count_one_each(http: TestClient, shop: Client) -> None:
    session = get_session(http, shop, token())
    response = http.post(
        f"/v1/{shop.name}/cart/{session}",
        json={"event_id": RESERVED, "numberoftickets": 3, "discount_id": "STD"},
    )
    assert response.status_code == 200, response.text
    assert count(basket(http, shop, session)) == 3
