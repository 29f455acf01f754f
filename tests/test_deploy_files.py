"""The container and service files run what the code has: the commands exist, the health route
is the app's, migrations are their own step, and nothing runs as root (docs/DEPLOYMENT.md)."""

from __future__ import annotations

import configparser
import re
from pathlib import Path
from typing import Any

import yaml

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]


def debrief_commands() -> set[str]:
    """The `debrief` subcommands, as its own parser knows them."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):
        main(["--help"])
    match = re.search(r"\{([a-z,-]+)\}", out.getvalue())
    assert match, out.getvalue()
    return set(match.group(1).split(","))


def test_the_dockerfile_runs_the_app_unprivileged_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    users = re.findall(r"^USER\s+(\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n?.*/healthz", text, flags=re.MULTILINE)
    cmd = re.findall(r"^CMD\s+(.*)$", text, flags=re.MULTILINE)[-1]
    assert cmd == '["debrief", "serve"]'
    # Migrations are a separate step, never part of the image's start.
    assert "migrate" not in cmd
    # Every package the wheel ships is copied in (a new top-level package must be added here).
    for package in ("bot", "handlers", "providers", "sandbox", "understanding"):
        assert f"COPY {package} ./{package}" in text


def test_compose_runs_migrations_before_the_app_against_its_postgres() -> None:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert {"debrief", "migrate", "postgres"} <= set(services)
    assert services["migrate"]["command"] == ["debrief", "migrate"]
    assert services["debrief"]["command"] == ["debrief", "serve"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert (
        services["debrief"]["depends_on"]["migrate"]["condition"]
        == "service_completed_successfully"
    )
    assert "healthcheck" in services["postgres"]
    assert services["postgres"]["volumes"] and "pgdata" in compose["volumes"]
    for name in ("debrief", "migrate"):
        url = services[name]["environment"]["DATABASE_URL"]
        assert url.startswith("postgresql+asyncpg://") and "@postgres:5432/" in url
    assert {"migrate", "serve"} <= debrief_commands()


def test_the_systemd_unit_migrates_then_serves_confined() -> None:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string((ROOT / "deploy" / "debrief.service").read_text(encoding="utf-8"))
    service = unit["Service"]
    assert service["User"] != "root"
    assert service["ExecStartPre"].endswith("debrief migrate")
    assert service["ExecStart"].endswith("debrief serve")
    assert service["ProtectSystem"] == "strict" and service["NoNewPrivileges"] == "yes"
    assert service["ReadWritePaths"] == service["WorkingDirectory"]
    assert unit["Install"]["WantedBy"] == "multi-user.target"
