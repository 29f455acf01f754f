"""The stand-in protocol's registry side: every installed descriptor that names a stand-in names
one that loads, under the names the page and the tests know them by, and a bad reference is
refused with what is wrong."""

from __future__ import annotations

import pytest

from bot.plugins import installed
from sandbox.attendee import AttendeePlugin
from sandbox.llm import LLMPlugin
from sandbox.plugin import StandInPlugin, installed_stand_ins, load


def test_the_registry_names_each_stand_in_the_world_runs() -> None:
    found = installed_stand_ins(installed())
    assert list(found) == ["attendee", "otter", "whereby", "claritalk", "llm"]
    assert found["attendee"] is AttendeePlugin
    assert found["llm"] is LLMPlugin, "the model endpoint's stand-in keeps the page's name"
    for plugin in found.values():
        assert issubclass(plugin, StandInPlugin)
        assert plugin.title and plugin.state_path, "a section on the page"


@pytest.mark.parametrize(
    ("reference", "error"),
    [
        ("sandbox.attendee", ValueError),
        ("sandbox.attendee:AttendeeStandIn", ValueError),
        ("sandbox.attendee:Nothing", ValueError),
        ("sandbox.no_such_module:Plugin", ImportError),
    ],
)
def test_a_bad_reference_is_refused(reference: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        load(reference)
