"""The wheel an operator installs with pipx or pip holds everything `debrief` needs at run time:
every package, the database migrations and the sandbox's page (docs/DEPLOYMENT.md, "Install")."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_carries_the_code_the_migrations_and_the_sandbox_page(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("debrief-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for package in ("bot", "handlers", "providers", "sandbox", "understanding"):
        assert f"{package}/__init__.py" in names, package
    migrations = {n for n in names if n.startswith("bot/store/migrations/versions/")}
    on_disk = {
        f"bot/store/migrations/versions/{p.name}"
        for p in (ROOT / "bot/store/migrations/versions").glob("*.py")
    }
    assert on_disk <= migrations
    assert {"bot/store/migrations/env.py", "bot/store/migrations/script.py.mako"} <= names
    page = {p.name for p in (ROOT / "sandbox/ui").iterdir() if p.is_file()}
    assert {f"sandbox/ui/{name}" for name in page} <= names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "debrief = bot.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()
