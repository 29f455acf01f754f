"""Every sentence the handlers can say, read as a user reads it.

The catalogue is every string literal under ``handlers/`` (an f-string's literal parts too),
leaving out what no person in Slack reads: docstrings, log lines, and errors that go to the
log, the operator's notices or the command line (listed below, each with why). A user is not an
operator: setting names belong in the log and ``debrief doctor``, never in Slack.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HANDLERS = ROOT / "handlers"

SETTING = re.compile(
    r"\b(?:DEBRIEF|SLACK|ATTENDEE|OTTER|WHEREBY|CLARITALK)_[A-Z_]+\b|\bPUBLIC_URL\b|\bDATABASE_URL\b"
)
#: Calls whose words reach a log, a webhook's sender or the command line, not a person in Slack.
NOT_SAID = {
    "debug",
    "info",
    "warning",
    "error",
    "exception",
    "RetryLater",
    "PermanentJobError",
    "InvalidSignature",
    "MalformedPayload",
    "InvalidLink",
}
#: Modules and functions whose words are for operators only, and why.
FOR_OPERATORS = {
    "handlers/ops.py": "notices in the operators' channel",
    "handlers/claritalk/admin.py": "`debrief claritalk register-webhook`, run by the operator",
    "handlers/claritalk/access.py:webhook_url": "the operator's command line",
    "handlers/claritalk/access.py:setup_missing": "logged by connect_problem, for the operator",
    "handlers/claritalk/messages.py:explain": "Debrief's own credentials: only the CLI says this",
    "handlers/routing/publish.py:hold_digest": "a notice in the operators' channel",
    "handlers/attendee/settings.py": "environment names, read by the core at start-up",
    "handlers/calendar/settings.py": "environment names, read by the core at start-up",
    "handlers/otter/settings.py": "environment names, read by the core at start-up",
    "handlers/whereby/settings.py": "environment names, read by the core at start-up",
    "handlers/claritalk/settings.py": "environment names, read by the core at start-up",
    "handlers/attendee/plugin.py": "the descriptor (doctor lines, probe; NOT_SET_UP: see below)",
    "handlers/otter/plugin.py": "the descriptor (doctor lines, probe; NOT_SET_UP: see below)",
    "handlers/whereby/plugin.py": "the descriptor (doctor lines, probe; NOT_SET_UP: see below)",
    "handlers/claritalk/plugin.py": "the descriptor (doctor lines, probe, CLI; NOT_SET_UP)",
    "handlers/model/settings.py": "environment names, read by the core at start-up",
    "handlers/model/plugin.py": "the descriptor (doctor line, probe)",
    # NOT_SET_UP in each plugin.py does reach Slack and names settings: it is the refusal the
    # core's Services.require_<provider>() said (outside this scan) before providers became
    # plug-ins, kept word for word because tests assert it; rewording it is a separate change.
}


def said(path: Path) -> Iterator[tuple[int, str]]:
    """The string literals of a module that may be said to a person, with their line."""
    tree = ast.parse(path.read_text())
    quiet: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(
            node, ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
        ) and ast.get_docstring(node, clean=False):
            quiet.add(id(node.body[0].value))  # type: ignore[attr-defined]
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
            name = node.func.id if isinstance(node.func, ast.Name) else name
            if name in NOT_SAID:
                quiet.update(id(n) for arg in node.args for n in ast.walk(arg))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            relative = path.relative_to(ROOT).as_posix()
            if f"{relative}:{node.name}" in FOR_OPERATORS:
                quiet.update(id(n) for n in ast.walk(node))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in quiet:
            yield node.lineno, node.value


def catalogue() -> list[tuple[str, int, str]]:
    found = []
    for path in sorted(HANDLERS.rglob("*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative in FOR_OPERATORS:
            continue
        found.extend((relative, line, text) for line, text in said(path))
    return found


CATALOGUE = catalogue()


def test_the_catalogue_is_read() -> None:
    # The scan itself must see the sentences it checks, or every check below passes on nothing.
    texts = [text for _, _, text in CATALOGUE]
    assert any("No notetakers are active in your channels" in t for t in texts)
    assert not any("A finished Attendee bot and its transcript" in t for t in texts), "docstring"


@pytest.mark.parametrize(
    ("check", "pattern"),
    [
        ("names a setting (tell them whom to ask; the name is for the log)", SETTING),
        ("has a doubled space", re.compile(r"\S  +\S")),
        ("counts with (s) instead of a plural", re.compile(r"\w\(s\)")),
        ("calls a notetaker a bot", re.compile(r"(?<![-_`<])\bbots?\b(?![-_`>])", re.I)),
    ],
    ids=["setting", "spaces", "plural", "bot"],
)
def test_no_user_facing_string(check: str, pattern: re.Pattern[str]) -> None:
    bad = [
        f"{where}:{line}: {text!r}"
        for where, line, text in CATALOGUE
        if pattern.search(text) and not _exempt(check, text)
    ]
    assert not bad, f"a user-facing string {check}:\n" + "\n".join(bad)


def _exempt(check: str, text: str) -> bool:
    """Words that look like the fault and are not: the command's own name for notetakers
    (`/debrief bots`, `<bot-id>`), ids and identifiers."""
    if check.startswith("calls"):
        return "/debrief bots" in text or text.strip() in {"bots", "bot"} or "_" in text
    return False
