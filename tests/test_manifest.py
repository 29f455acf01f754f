"""manifest.yml is valid against Slack's own schema and in step with the code."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest
import yaml

import handlers

ROOT = Path(__file__).resolve().parents[1]
#: Slack's official manifest schema, vendored (tests/schemas/README.md says whence).
SCHEMA = ROOT / "tests" / "schemas" / "slack-manifest.schema.1.0.0.json"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_is_valid_against_slacks_schema(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(manifest)


def test_the_slash_commands_are_the_codes(manifest: dict[str, Any]) -> None:
    commands = [c["command"] for c in manifest["features"]["slash_commands"]]
    assert commands == list(handlers.SLASH_COMMANDS)


def test_every_request_url_is_the_slack_route(manifest: dict[str, Any]) -> None:
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls.append(manifest["settings"]["interactivity"]["request_url"])
    if "event_subscriptions" in manifest["settings"]:
        urls.append(manifest["settings"]["event_subscriptions"]["request_url"])
    assert {urlsplit(u).path for u in urls} == {"/slack/events"}
    assert {urlsplit(u).hostname for u in urls} == {"debrief.example.com"}


def test_scopes_cover_what_the_code_calls(manifest: dict[str, Any]) -> None:
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    assert granted == set(handlers.BOT_SCOPES), "grant exactly what is used, nothing more"


def test_events_match_the_listeners(manifest: dict[str, Any]) -> None:
    events = set(manifest["settings"].get("event_subscriptions", {}).get("bot_events", []))
    assert events == set(handlers.BOT_EVENTS)


def test_interactivity_is_on_when_there_are_actions(manifest: dict[str, Any]) -> None:
    assert manifest["settings"]["interactivity"]["is_enabled"] is bool(handlers.ACTION_IDS)
    assert len(set(handlers.ACTION_IDS)) == len(handlers.ACTION_IDS), "action ids are unique"
    assert all(0 < len(a) <= 255 for a in handlers.ACTION_IDS)


def socket_mode_variant(manifest: dict[str, Any]) -> dict[str, Any]:
    """The change docs/DEPLOYMENT.md ("Socket Mode") tells operators to make to manifest.yml."""
    variant = copy.deepcopy(manifest)
    settings = variant["settings"]
    settings["socket_mode_enabled"] = True
    settings["interactivity"].pop("request_url", None)
    settings["event_subscriptions"].pop("request_url", None)
    for command in variant["features"]["slash_commands"]:
        command.pop("url", None)
    return variant


def test_the_socket_mode_variant_is_valid_too(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    variant = socket_mode_variant(manifest)
    jsonschema.Draft7Validator(schema).validate(variant)
    assert "request_url" not in str(variant) and variant["settings"]["socket_mode_enabled"]
    # Nothing else differs: the same scopes, events and command.
    assert variant["oauth_config"] == manifest["oauth_config"]
    assert (
        variant["settings"]["event_subscriptions"]["bot_events"]
        == manifest["settings"]["event_subscriptions"]["bot_events"]
    )
