"""The allowed import directions (.importlinter) hold, and a forbidden import breaks them."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / ".importlinter"
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"


def _lint_imports(source: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH puts `source` ahead of the installed (editable) package.
    env = {**os.environ, "PYTHONPATH": str(source)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(CONFIG), "--no-cache"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_import_contracts_are_kept(tmp_path: Path) -> None:
    result = _lint_imports(ROOT / "src", tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "imported", "contract"),
    [
        ("client/state.py", "boxoffice.server.errors", "never import each other"),
        ("server/db/engine.py", "boxoffice.server.orders.tables", "Server layers"),
        ("server/catalog/service.py", "boxoffice.server.customers.service", "No cycles"),
        ("server/catalog/tables.py", "boxoffice.demo.names", "Entry points above"),
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, imported: str, contract: str
) -> None:
    source = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "boxoffice", source / "boxoffice")
    with (source / "boxoffice" / module).open("a") as file:
        file.write(f"\nimport {imported}  # noqa\n")
    result = _lint_imports(source, tmp_path)
    assert result.returncode != 0, result.stdout
    broken = [line for line in result.stdout.splitlines() if line.endswith(" BROKEN")]
    assert any(contract in line for line in broken), result.stdout
    assert imported in result.stdout
