"""integrations/wordpress/boxoffice-redirect.php in a real WordPress, against a real server.

A Boxoffice server runs on 127.0.0.1 over the test database (both backends); Debian's
WordPress, installed into a fresh MariaDB database, loads the plugin as a must-use plugin
and makes the calls the two VoordeMensen plugins make to https://api.voordemensen.nl/v1/.
They must arrive at Boxoffice (its access log shows them) and parse as the plugins parse
them. Skipped without PHP, WordPress or MariaDB, except in CI (CI=true), where it fails.
"""

import json
import os
import shutil
import subprocess
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import Engine

from tests.builders import at, building
from tests.conftest import Client
from tests.ops.server import serve

ROOT = Path(__file__).resolve().parents[2]
PLUGIN = ROOT / "integrations" / "wordpress" / "boxoffice-redirect.php"
HARNESS = Path(__file__).with_name("wordpress_harness.php")
WORDPRESS_DIR = Path(os.environ.get("BOXOFFICE_TEST_WORDPRESS_DIR", "/usr/share/wordpress"))
MARIADB_HOST = os.environ.get("BOXOFFICE_TEST_MARIADB_HOST", "127.0.0.1")
REQUIRED = os.environ.get("CI") == "true"
TIMEZONE = "Europe/Amsterdam"
PRODUCTION, ON_SALE, NOT_ON_SALE = 700, 701, 702
# A visitor's token, as the official plugin makes one (16 random bytes in hex).
TOKEN = uuid.uuid4().hex


def _missing() -> str | None:
    php = shutil.which("php")
    if php is None:
        return "php is not installed"
    if not (WORDPRESS_DIR / "wp-settings.php").exists():
        return f"WordPress is not installed in {WORDPRESS_DIR}"
    probe = subprocess.run(
        [php, "-r", f"exit(@mysqli_connect('{MARIADB_HOST}', 'root', '') ? 0 : 1);"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    if probe.returncode != 0:
        return f"MariaDB is not reachable at {MARIADB_HOST}:3306 (or php-mysql is missing)"
    return None


@pytest.fixture(scope="module")
def wordpress() -> Path:
    missing = _missing()
    if missing is not None:
        if REQUIRED:
            pytest.fail(f"the WordPress test is required in CI: {missing}")
        pytest.skip(missing)
    return WORDPRESS_DIR


def build_catalog_of(engine: Engine, client: Client) -> None:
    """A hall without a plan, one production with an event on sale and one not (the
    client's time zone is TIMEZONE)."""
    assert str(client.tenant.timezone) == TIMEZONE
    with building(engine, client.tenant.id) as b:
        b.payment_method(1, "iDEAL", 0)
        b.ranks((1, "Vrije plaats"))
        b.hall(1, {}, name="Grote Zaal")
        b.production(PRODUCTION, "Hamlet")
        for event_id, start, end, status in (
            (ON_SALE, "2031-03-14T20:15:00+01:00", "2031-03-14T22:45:00+01:00", "pub"),
            (NOT_ON_SALE, "2031-03-15T14:00:00+01:00", "2031-03-15T16:30:00+01:00", "nosal"),
        ):
            b.event(
                event_id,
                production_id=PRODUCTION,
                start_at=at(start),
                end_at=at(end),
                hall_id=1,
                seating="unreserved",
                capacity={1: 40},
                prices_=[(f"V{event_id}", "Vol", 1, 2450), (f"C{event_id}", "CJP", 1, 1700)],
                status=status,
            )


def _local(iso: str) -> int:
    return int(datetime.fromisoformat(iso).astimezone(ZoneInfo(TIMEZONE)).timestamp())


def test_the_plugins_calls_reach_boxoffice(
    wordpress: Path, database_url: str, engine: Engine, client: Client, tmp_path: Path
) -> None:
    build_catalog_of(engine, client)
    mu_plugins = tmp_path / "mu-plugins"
    mu_plugins.mkdir()
    shutil.copy(PLUGIN, mu_plugins / PLUGIN.name)
    (tmp_path / "content").mkdir()
    with serve(database_url, tmp_path) as server:
        # A buyer's cart with two tickets, filled as a browser widget (jQuery) posts a form.
        public = server.url(f"/v1/{client.name}")
        cart_id = httpx.post(f"{public}/cart", timeout=30).json()["cart_id"]
        line = {"event_id": str(ON_SALE), "numberoftickets": "2", "discount_id": f"V{ON_SALE}"}
        held = httpx.post(f"{public}/cart/{cart_id}", data=line, timeout=30)
        assert held.status_code == 200, held.text
        environment = {
            **os.environ,
            "WORDPRESS_DIR": str(wordpress),
            "WP_DB_NAME": f"boxoffice_wp_{uuid.uuid4().hex[:12]}",
            "WP_DB_HOST": MARIADB_HOST,
            "WP_CONTENT_DIR": str(tmp_path / "content"),
            "WP_MU_PLUGIN_DIR": str(mu_plugins),
            "BOXOFFICE_URL": server.url("/"),
            "VDM_CLIENT": client.name,
            "VDM_EVENT_ID": str(PRODUCTION),
            "VDM_CART_ID": cart_id,
            "VDM_TOKEN": TOKEN,
            "VDM_TIMEZONE": TIMEZONE,
        }
        run = subprocess.run(
            ["php", str(HARNESS)],
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert run.returncode == 0, run.stderr[-4000:]
        result = json.loads(run.stdout.strip().splitlines()[-1])
        log = server.log_lines()

    assert result["plugin"] is True, "WordPress did not load the must-use plugin"
    base = server.url(f"/v1/{client.name}")
    # WordPress itself requested Boxoffice's URLs, never VoordeMensen's.
    requested = [(r["method"], r["url"], r["status"]) for r in result["requested"]]
    assert ("GET", f"{base}/events", 200) in requested, requested
    assert ("GET", f"{base}/tickettypes/{ON_SALE}", 200) in requested, requested
    assert ("GET", f"{base}/events/{PRODUCTION}", 200) in requested, requested
    assert not any("voordemensen" in url for _, url, _ in requested), requested
    # And Boxoffice answered them: its own access log.
    served = {(line["method"], line["path"], line["status"]) for line in log if "path" in line}
    assert ("GET", f"/v1/{client.name}/events", 200) in served, served

    # The agency plugin's parsing: main events with sub-events, Y-m-d H:i:s in the
    # client's zone, (float) prices.
    agency = result["agency"]
    assert agency["status"] == 200
    [event] = agency["events"]
    assert event["event_id"] == str(PRODUCTION)
    assert event["event_name"] == "Hamlet"
    subs = {sub["event_id"]: sub for sub in event["sub_events"]}
    assert set(subs) == {str(ON_SALE), str(NOT_ON_SALE)}
    on_sale = subs[str(ON_SALE)]
    assert on_sale["status"] == "pub"
    assert subs[str(NOT_ON_SALE)]["status"] == "nosal"
    assert on_sale["start"] == _local("2031-03-14T20:15:00+01:00")
    assert on_sale["end"] == _local("2031-03-14T22:45:00+01:00")
    types = {t["discount_id"]: t for t in on_sale["ticket_types"]}
    assert types[f"V{ON_SALE}"]["discounted_price"] == 24.5
    assert types[f"C{ON_SALE}"]["discounted_price"] == 17.0
    assert types[f"C{ON_SALE}"]["base_price"] == 24.5

    # The official plugin's parsing: [0]->event_name and the dates on sale.
    official = result["official"]
    assert official["status"] == 200
    assert official["event_name"] == "Hamlet"
    assert official["dates"] == ["14-03-2031 - 20:15"]

    # The official plugin's session and basket counter, through the ticket host's API.
    ticket_host = server.url(f"/api/{client.name}")
    [first, second] = result["sessions"]
    assert first is not None and first == second
    assert ("GET", f"{ticket_host}/get-session?token={TOKEN}", 200) in requested, requested
    assert ("GET", f"{ticket_host}/cart/{cart_id}", 200) in requested, requested
    assert result["basket"] == {"status": 200, "counter": 2}

    assert result["untouched"] is None
    escaped = json.dumps(server.url("/v1/")).replace("/", "\\/")
    assert f'"base_url":{escaped}' in result["script_data"], result["script_data"]
