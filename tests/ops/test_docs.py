"""docs/operations.md documents every setting the server reads."""

from pathlib import Path

from boxoffice.server.config import Settings

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_every_setting_is_in_the_configuration_table() -> None:
    text = OPERATIONS.read_text(encoding="utf-8")
    missing = [
        name for name in Settings.model_fields if f"| `BOXOFFICE_{name.upper()}` |" not in text
    ]
    assert not missing, f"add these settings to docs/operations.md#configuration: {missing}"
