"""Soak test of the incremental sync guarantee: writers and syncing readers against a real server.

A real `boxoffice serve --workers 2` runs on a scratch database with the small demo data.
Writer threads make random changes through the API (customer edits, checkouts, seat
removals, status changes, waiting-list transitions) while two readers sync the customers,
orders and waiting-list exports in a loop: one passes back the server's watermark, the
other the largest `lastChanged` it has seen (the reference pattern, inclusive). When the
time is up, each reader syncs once more and its copy is compared record by record with a
fresh full export. Any record missing or different is a missed change.

    uv run python bench/soak.py --database sqlite --seconds 60
    uv run python bench/soak.py --database postgresql --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from harness import ROOT, Scratch, Server, boxoffice

DATASETS = ("customers", "orders", "waitinglist")
ID_FIELDS = {"customers": "customerId", "orders": "orderId", "waitinglist": "waitingId"}
WAITING_NEXT = {
    "waiting": ["notified", "cancelled"],
    "notified": ["converted", "expired", "cancelled"],
}


def comparable(record: dict[str, Any]) -> dict[str, Any]:
    """A record without its inline `user`: that is the customer's own record, synced through
    the customers export, and does not move the order's or entry's `lastChanged`."""
    return {k: v for k, v in record.items() if k != "user"}


def cents(value: Any) -> int:
    return int(Decimal(str(value)) * 100)


def adds_up(order: dict[str, Any]) -> bool:
    seats = sum(cents(seat["amount"]) for seat in order["seats"])
    return cents(order["amount"]) == seats + cents(order["donation"]) + cents(order["fee"])


@dataclass
class World:
    """What the writers know about the client's data, shared between writer threads."""

    customer_ids: list[int]
    prices: list[dict[str, Any]]
    orders: dict[int, list[int]] = field(default_factory=dict)
    waiting: dict[int, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Writer(threading.Thread):
    """Random changes through the API until told to stop."""

    def __init__(self, base: str, key: str, world: World, stop: threading.Event, seed: int) -> None:
        super().__init__(daemon=True)
        self.http = httpx.Client(base_url=base, headers={"Authorization": key}, timeout=60)
        self.world = world
        self.stop = stop
        self.random = random.Random(seed)
        self.changes: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.failures: list[str] = []

    def run(self) -> None:
        actions = [
            self.edit_customer,
            self.checkout,
            self.remove_seat,
            self.change_order,
            self.waiting_list,
        ]
        while not self.stop.is_set():
            action = self.random.choice(actions)
            try:
                action()
            except httpx.HTTPError as exc:
                self.failures.append(f"{action.__name__}: {exc!r}")
        self.http.close()

    def expect(
        self, kind: str, response: httpx.Response, ok: int, refusals: tuple[int, ...] = ()
    ) -> bool:
        if response.status_code == ok:
            self.changes[kind] += 1
            return True
        if response.status_code in refusals:
            self.refused[kind] += 1
            return False
        self.failures.append(f"{kind}: {response.status_code} {response.text[:200]}")
        return False

    def edit_customer(self) -> None:
        customer_id = self.random.choice(self.world.customer_ids)
        body = {
            "customerCity": self.random.choice(["Utrecht", "Delft", "Zwolle", "Gouda", "Leiden"]),
            "customerPhone": str(self.random.randrange(10**9, 10**10)),
        }
        response = self.http.put(f"/customer/{customer_id}", json=body)
        self.expect("customer edit", response, 200, (409,))  # 409: an erased customer

    def checkout(self) -> None:
        cart = self.http.post("/cart")
        if not self.expect("cart", cart, 201):
            return
        cart_id = cart.json()["cartId"]
        price = self.random.choice(self.world.prices)
        item = {
            "priceId": price["priceId"],
            "rankId": price["rankId"],
            "eventId": price["eventId"],
            "numberOfTickets": self.random.randint(1, 3),
        }
        if not self.expect("hold", self.http.post(f"/cart/{cart_id}", json=[item]), 200, (409,)):
            self.http.delete(f"/cart/{cart_id}")
            return
        body: dict[str, Any] = {
            "paymentMethodId": price["paymentMethodId"],
            "paid": self.random.random() < 0.7,
        }
        if self.random.random() < 0.8:
            body["customerId"] = self.random.choice(self.world.customer_ids)
        response = self.http.post(f"/cart/{cart_id}/checkout", json=body)
        if self.expect("checkout", response, 201, (410, 422)):
            order = response.json()
            with self.world.lock:
                self.world.orders[order["orderId"]] = [s["seatId"] for s in order["seats"]]

    def _order(self) -> tuple[int, list[int]] | None:
        with self.world.lock:
            if not self.world.orders:
                return None
            order_id = self.random.choice(list(self.world.orders))
            return order_id, list(self.world.orders[order_id])

    def remove_seat(self) -> None:
        found = self._order()
        if found is None or not found[1]:
            return
        order_id, seats = found
        seat_id = self.random.choice(seats)
        response = self.http.delete(f"/order/{order_id}/seat/{seat_id}")
        if self.expect("seat removal", response, 200, (404,)):
            with self.world.lock:
                if seat_id in self.world.orders.get(order_id, []):
                    self.world.orders[order_id].remove(seat_id)

    def change_order(self) -> None:
        found = self._order()
        if found is None:
            return
        if self.random.random() < 0.5:
            body = {"orderPaymentStatus": self.random.choice(["none", "paid", "partial", "refund"])}
        else:
            body = {"orderStatus": self.random.choice(["ord", "cancel", "res", "ord"])}
        response = self.http.put(f"/order/{found[0]}", json=body)
        self.expect("order change", response, 200, (409,))

    def waiting_list(self) -> None:
        with self.world.lock:
            movable = [(w, t) for w, t in self.world.waiting.items() if t in WAITING_NEXT]
        if movable and self.random.random() < 0.6:
            waiting_id, current = self.random.choice(movable)
            new_type = self.random.choice(WAITING_NEXT[current])
            response = self.http.put(f"/waitinglist/{waiting_id}", json={"type": new_type})
            if self.expect("waiting-list move", response, 200, (422,)):
                with self.world.lock:
                    self.world.waiting[waiting_id] = new_type
            return
        price = self.random.choice(self.world.prices)
        body = {
            "customerId": self.random.choice(self.world.customer_ids),
            "eventId": price["eventId"],
            "numberOfTickets": self.random.randint(1, 6),
        }
        response = self.http.post("/waitinglist", json=body)
        if self.expect("waiting-list join", response, 201, (409, 422)):
            with self.world.lock:
                self.world.waiting[response.json()["waitingId"]] = "waiting"


class Reader(threading.Thread):
    """Keeps a copy of the three exports, by watermark or by largest lastChanged seen."""

    def __init__(self, base: str, key: str, mode: str, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.http = httpx.Client(base_url=base, headers={"Authorization": key}, timeout=300)
        self.mode = mode
        self.stop = stop
        self.copies: dict[str, dict[int, dict[str, Any]]] = {d: {} for d in DATASETS}
        self.bounds: dict[str, str | None] = dict.fromkeys(DATASETS)
        self.syncs = 0
        self.received = 0
        self.duplicates = 0
        self.inconsistent = 0
        self.failures: list[str] = []

    def sync_once(self) -> None:
        for dataset in DATASETS:
            bound = self.bounds[dataset]
            body = {} if bound is None else {"changedSince": bound}
            response = self.http.post(f"/export/{dataset}", json=body)
            if response.status_code != 200:
                self.failures.append(f"{dataset}: {response.status_code} {response.text[:200]}")
                continue
            records = response.json()
            copy = self.copies[dataset]
            if dataset == "orders":
                # One export is one snapshot: an order never disagrees with its own seats.
                self.inconsistent += sum(1 for order in records if not adds_up(order))
            for record in map(comparable, records):
                record_id = record[ID_FIELDS[dataset]]
                if copy.get(record_id) == record:
                    self.duplicates += 1
                copy[record_id] = record
            self.received += len(records)
            if self.mode == "watermark":
                self.bounds[dataset] = response.headers["x-sync-watermark"]
            elif records:
                newest = max(records, key=lambda r: datetime.fromisoformat(r["lastChanged"]))
                seen = self.bounds[dataset]
                if seen is None or datetime.fromisoformat(
                    newest["lastChanged"]
                ) > datetime.fromisoformat(seen):
                    self.bounds[dataset] = newest["lastChanged"]
        self.syncs += 1

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.sync_once()
            except httpx.HTTPError as exc:
                self.failures.append(repr(exc))


def soak(database: str, seconds: float, writers: int, workers: int) -> dict[str, Any]:
    with Scratch(database, "boxoffice_soak") as scratch:
        env = {
            **os.environ,
            "BOXOFFICE_DATABASE_URL": scratch.url,
            "BOXOFFICE_RATE_LIMIT_PER_MINUTE": "0",
            "BOXOFFICE_AUTH_FAILURE_LIMIT_PER_MINUTE": "0",
            "BOXOFFICE_LOG_LEVEL": "warning",
        }
        boxoffice(env, "migrate")
        key = (
            boxoffice(env, "demo", "--client", "soak", "--scale", "small").strip().splitlines()[-1]
        )
        with Server(env, workers) as server:
            base = f"{server.url}/v1/soak/peppered"
            world = setup_world(base, key)
            stop_writers, stop_readers = threading.Event(), threading.Event()
            readers = [Reader(base, key, mode, stop_readers) for mode in ("watermark", "reference")]
            pool = [Writer(base, key, world, stop_writers, seed) for seed in range(writers)]
            for thread in [*readers, *pool]:
                thread.start()
            time.sleep(seconds)
            stop_writers.set()
            for writer in pool:
                writer.join()
            stop_readers.set()
            for reader in readers:
                reader.join()
            for reader in readers:
                reader.sync_once()  # the final sync, after the last write
            truth = full_exports(base, key)
        report: dict[str, Any] = {
            "database": database,
            "seconds": seconds,
            "writers": writers,
            "server_workers": workers,
            # Creating a cart and holding places change nothing that is exported.
            "changes_written": sum(
                n for w in pool for kind, n in w.changes.items() if kind not in ("cart", "hold")
            ),
            "changes_by_kind": dict(sum((w.changes for w in pool), Counter())),
            "refused_as_expected": dict(sum((w.refused for w in pool), Counter())),
            "unexpected_errors": [f for w in pool for f in w.failures][:20]
            + [f for r in readers for f in r.failures][:20],
            "records_in_full_export": {d: len(truth[d]) for d in DATASETS},
            "readers": {},
        }
        for reader in readers:
            missed = 0
            compared = 0
            for dataset in DATASETS:
                copy = reader.copies[dataset]
                for record_id, record in truth[dataset].items():
                    compared += 1
                    if copy.get(record_id) != record:
                        missed += 1
                missed += len(set(copy) - set(truth[dataset]))
            report["readers"][reader.mode] = {
                "syncs": reader.syncs,
                "records_received": reader.received,
                "duplicates_received": reader.duplicates,
                "records_compared": compared,
                "records_missed": missed,
                "orders_not_adding_up": reader.inconsistent,
            }
        return report


def setup_world(base: str, key: str) -> World:
    http = httpx.Client(base_url=base, headers={"Authorization": key}, timeout=300)
    customers = http.post("/export/customers").json()
    methods = http.get("/paymentmethods").json()
    events = http.get("/event", params={"startDate": date.today().isoformat()}).json()
    prices = [
        {
            **price,
            "eventId": event["eventId"],
            "paymentMethodId": random.Random(event["eventId"]).choice(methods)["paymentMethodId"],
        }
        for event in events
        for price in event["prices"]
    ]
    http.close()
    if not prices:
        raise RuntimeError("the demo data has no future events to sell")
    return World(customer_ids=[c["customerId"] for c in customers if c["email"]], prices=prices)


def full_exports(base: str, key: str) -> dict[str, dict[int, dict[str, Any]]]:
    http = httpx.Client(base_url=base, headers={"Authorization": key}, timeout=300)
    truth = {}
    for dataset in DATASETS:
        records = http.post(f"/export/{dataset}").json()
        truth[dataset] = {r[ID_FIELDS[dataset]]: comparable(r) for r in records}
    http.close()
    return truth


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--writers", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args()
    report = soak(args.database, args.seconds, args.writers, args.workers)
    args.output.mkdir(parents=True, exist_ok=True)
    (args.output / f"soak-{args.database}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))
    missed = sum(r["records_missed"] for r in report["readers"].values())
    missed += sum(r["orders_not_adding_up"] for r in report["readers"].values())
    if missed or report["unexpected_errors"]:
        print(
            f"FAILED: {missed} records missed, {len(report['unexpected_errors'])} unexpected errors"
        )
        return 1
    print(f"OK: 0 records missed, {report['changes_written']} changes written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
