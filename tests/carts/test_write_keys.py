"""A cart's write routes refuse a failed key before anything is written, on PostgreSQL too,
where the key is read in the first round trip of the route's own write transaction
(tenancy/auth.py, `KeyCheck._run_with`): every failure is the same 401, the transaction is rolled
back, and a revoked key fails on the very next request."""

from sqlalchemy import Engine

from boxoffice.server.db.transactions import write_transaction
from boxoffice.server.tenancy.keys import key_prefix
from boxoffice.server.tenancy.service import create_key, revoke_key
from tests.builders import RESERVED, Catalog
from tests.carts.conftest import Shop, snapshot
from tests.conftest import Client
from tests.test_tenancy import assert_unauthenticated

LINE = [{"priceId": "STD", "rankId": 1, "numberOfTickets": 2}]


def test_every_failed_key_on_a_write_route_is_the_401_and_writes_nothing(
    shop: Shop, engine: Engine, client: Client, other_client: Client, catalog: Catalog
) -> None:
    cart = shop.new_cart()
    assert shop.add(cart, LINE).status_code == 200
    item = shop.get(f"/cart/{cart}").json()["cartItems"][0]["itemId"]
    before = snapshot(engine, client.tenant.id)
    wrong = client.key[:-1] + ("A" if client.key[-1] != "A" else "B")
    requests = [
        ("POST", f"/cart/{cart}", LINE),
        ("POST", f"/cart/{cart}/checkout", {"paymentMethodId": 1, "paid": True}),
        ("DELETE", f"/cart/{cart}/{item}", None),
        ("DELETE", f"/cart/{cart}", None),
    ]
    for method, path, body in requests:
        for headers in ({"Authorization": other_client.key}, {"Authorization": wrong}, {}):
            answer = shop.http.request(method, client.base + path, json=body, headers=headers)
            assert_unauthenticated(answer)
    assert snapshot(engine, client.tenant.id) == before
    # Nothing was left open: the right key holds, checks out, and an export's barrier
    # (which waits for every open write transaction) is passed.
    assert shop.add(cart, LINE).status_code == 200
    assert shop.checkout(cart, {"paymentMethodId": 1, "paid": True}).status_code == 201
    exported = shop.http.post(client.base + "/export/orders", json={}, headers=client.auth)
    assert exported.status_code == 200
    assert shop.available(RESERVED)[1] == 27 - 4


def test_a_key_revoked_fails_on_the_next_write(
    shop: Shop, engine: Engine, client: Client, catalog: Catalog
) -> None:
    with write_transaction(engine) as tx:
        second = create_key(tx.conn, tenant_id=client.tenant.id, now=tx.now)
    cart = shop.new_cart()
    url = f"{client.base}/cart/{cart}"
    assert shop.http.post(url, json=LINE, headers={"Authorization": second}).status_code == 200
    prefix = key_prefix(second)
    assert prefix is not None
    with write_transaction(engine) as tx:
        revoke_key(tx.conn, tenant_id=client.tenant.id, prefix=prefix, now=tx.now)
    before = snapshot(engine, client.tenant.id)
    assert_unauthenticated(shop.http.post(url, json=LINE, headers={"Authorization": second}))
    assert snapshot(engine, client.tenant.id) == before
    assert shop.add(cart, LINE).status_code == 200
