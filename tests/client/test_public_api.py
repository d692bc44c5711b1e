"""The client's public API: its names, one exception tree, one redaction, instants read once."""

import inspect
from datetime import UTC, datetime

import pytest

import boxoffice.client
from boxoffice.client import errors, redact, redact_url
from boxoffice.client.records import LastChanged, parse_record, read_last_changed


def test_every_public_name_exists_and_every_exception_is_in_it() -> None:
    for name in boxoffice.client.__all__:
        assert hasattr(boxoffice.client, name), name
    tree = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, Exception)
    }
    assert tree <= set(boxoffice.client.__all__)
    assert all(issubclass(getattr(errors, name), errors.SyncError) for name in tree)


def test_exceptions_are_defined_only_in_the_errors_module() -> None:
    for module in ("api", "config", "records", "sync", "sinks", "sinks.base"):
        namespace = vars(__import__(f"boxoffice.client.{module}", fromlist=["_"]))
        for value in namespace.values():
            if inspect.isclass(value) and issubclass(value, errors.SyncError):
                assert value.__module__ == "boxoffice.client.errors", value


@pytest.mark.parametrize(
    ("text", "secret", "shown"),
    [
        (
            "GET failed for key bo_abc.def (bo_abc.def)",
            "bo_abc.def",
            "GET failed for key *** (***)",
        ),
        ("nothing to hide", "bo_abc.def", "nothing to hide"),
        ("no key configured", "", "no key configured"),
        ("no key configured", None, "no key configured"),
    ],
)
def test_redact_masks_every_occurrence_of_the_secret(
    text: str, secret: str | None, shown: str
) -> None:
    assert redact(text, secret) == shown


def test_redact_url_drops_only_the_password() -> None:
    assert (
        redact_url("postgresql://sync:s3cret@db:5433/copy") == "postgresql://sync:***@db:5433/copy"
    )
    assert redact_url("sqlite:///copy.db") == "sqlite:///copy.db"


def test_a_record_s_last_changed_is_read_once_and_not_parsed_again() -> None:
    record = {
        "waitingId": 7,
        "eventId": 3,
        "numberOfTickets": 2,
        "type": "waiting",
        "lastChanged": "2026-04-22T13:08:55+02:00",
    }
    stamp = read_last_changed(record)
    assert stamp == LastChanged(
        "2026-04-22T13:08:55+02:00", datetime(2026, 4, 22, 11, 8, 55, tzinfo=UTC)
    )
    # parse_record takes the instant as read: a different one given shows it is not re-parsed.
    given = LastChanged(record["lastChanged"], datetime(2030, 1, 1, tzinfo=UTC))
    parsed = parse_record("waitinglist", record, given)
    assert parsed.last_changed == record["lastChanged"]
    assert given.at in parsed.row


def test_an_unreadable_last_changed_is_rejected_by_parse_record() -> None:
    record = {"waitingId": 7, "eventId": 3, "numberOfTickets": 2, "type": "waiting"}
    bad = {**record, "lastChanged": "2026-04-22T13:08:55"}
    assert read_last_changed(bad) is None
    with pytest.raises(errors.RecordError, match="lastChanged"):
        parse_record("waitinglist", bad, None)
    assert parse_record("waitinglist", record, None).last_changed is None
