"""Block Kit validation that rejects what Slack rejects, driven by one table of shapes.

Each block, element and composition object type maps to a :class:`Shape`: its fields with their
limits. To support a new type or limit, add or edit a row in ``BLOCKS``, ``ELEMENTS`` or
``OBJECTS``. Problems read like Slack's (``must be less than 3001 characters
[json-pointer:/blocks/0/text/text]``); the wording approximates Slack's, the pointers match.
Unknown fields are tolerated (Slack adds new optional ones often); unknown types are not.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
MESSAGE_TEXT = 40000


@dataclass(frozen=True)
class Problem:
    """One reason a payload is invalid, with the JSON pointer of the offending value."""

    message: str
    pointer: str

    def __str__(self) -> str:
        return f"{self.message} [json-pointer:{self.pointer}]"


@dataclass(frozen=True)
class Text:
    """A text object field: ``{"type": "plain_text"|"mrkdwn", "text": ...}``."""

    max: int
    plain: bool = False
    required: bool = False


@dataclass(frozen=True)
class Str:
    """A string field with a maximum length."""

    max: int
    required: bool = False


@dataclass(frozen=True)
class Obj:
    """A nested object whose ``type`` (or fixed ``kind``) is looked up in the tables."""

    kinds: frozenset[str] | None = None
    kind: str | None = None
    required: bool = False


@dataclass(frozen=True)
class Items:
    """A list field: at most ``max`` items, each an object checked against ``item``."""

    item: Text | Obj | None
    max: int
    min: int = 0
    required: bool = False


FieldSpec = Text | Str | Obj | Items


@dataclass(frozen=True)
class Shape:
    """What Slack accepts for one type: its fields, and fields of which at least one is needed."""

    fields: Mapping[str, FieldSpec] = field(default_factory=dict)
    one_of: tuple[str, ...] = ()


# Elements allowed in each container.
ACTION_ELEMENTS = frozenset(
    {
        "button",
        "checkboxes",
        "datepicker",
        "datetimepicker",
        "overflow",
        "radio_buttons",
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
        "multi_static_select",
        "multi_external_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
        "timepicker",
        "workflow_button",
        "rich_text_input",
    }
)
ACCESSORY_ELEMENTS = ACTION_ELEMENTS - {"rich_text_input", "datetimepicker"} | {"image"}
INPUT_ELEMENTS = ACTION_ELEMENTS - {"button", "overflow", "workflow_button"} | {
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
    "file_input",
}
CONTEXT_ELEMENTS = frozenset({"image", "plain_text", "mrkdwn"})

_ID = Str(255)
_OPTION = Obj(kind="option")
_OPTIONS_100 = Items(_OPTION, max=100)
_PLACEHOLDER = Text(150, plain=True)
_CONFIRM = Obj(kind="confirm")


def _select(**extra: FieldSpec) -> Shape:
    return Shape({"action_id": _ID, "placeholder": _PLACEHOLDER, "confirm": _CONFIRM, **extra})


BLOCKS: dict[str, Shape] = {
    "section": Shape(
        {
            "block_id": _ID,
            "text": Text(3000),
            "fields": Items(Text(2000), max=10),
            "accessory": Obj(ACCESSORY_ELEMENTS),
        },
        one_of=("text", "fields"),
    ),
    "header": Shape({"block_id": _ID, "text": Text(150, plain=True, required=True)}),
    "divider": Shape({"block_id": _ID}),
    "image": Shape(
        {
            "block_id": _ID,
            "image_url": Str(3000),
            "alt_text": Str(2000, required=True),
            "title": Text(2000, plain=True),
        },
        one_of=("image_url", "slack_file"),
    ),
    "actions": Shape(
        {"block_id": _ID, "elements": Items(Obj(ACTION_ELEMENTS), max=25, min=1, required=True)}
    ),
    "context": Shape(
        {"block_id": _ID, "elements": Items(Obj(CONTEXT_ELEMENTS), max=10, min=1, required=True)}
    ),
    "input": Shape(
        {
            "block_id": _ID,
            "label": Text(2000, plain=True, required=True),
            "hint": Text(2000, plain=True),
            "element": Obj(INPUT_ELEMENTS, required=True),
        }
    ),
    "rich_text": Shape({"block_id": _ID, "elements": Items(None, max=100, required=True)}),
    "markdown": Shape({"block_id": _ID, "text": Str(12000, required=True)}),
    "video": Shape(
        {
            "block_id": _ID,
            "alt_text": Str(2000, required=True),
            "title": Text(200, plain=True, required=True),
            "thumbnail_url": Str(3000, required=True),
            "video_url": Str(3000, required=True),
        }
    ),
    "file": Shape({"block_id": _ID, "external_id": Str(255, required=True)}),
    "table": Shape({"block_id": _ID, "rows": Items(None, max=100, min=1, required=True)}),
}

ELEMENTS: dict[str, Shape] = {
    "button": Shape(
        {
            "action_id": _ID,
            "text": Text(75, plain=True, required=True),
            "value": Str(2000),
            "url": Str(3000),
            "confirm": _CONFIRM,
            "accessibility_label": Str(75),
        }
    ),
    "static_select": Shape(
        _select(
            options=_OPTIONS_100,
            option_groups=Items(Obj(kind="option_group"), max=100),
            initial_option=_OPTION,
        ).fields,
        one_of=("options", "option_groups"),
    ),
    "multi_static_select": Shape(
        _select(
            options=_OPTIONS_100,
            option_groups=Items(Obj(kind="option_group"), max=100),
            initial_options=_OPTIONS_100,
        ).fields,
        one_of=("options", "option_groups"),
    ),
    "external_select": _select(initial_option=_OPTION),
    "multi_external_select": _select(initial_options=_OPTIONS_100),
    "users_select": _select(initial_user=Str(255)),
    "multi_users_select": _select(),
    "conversations_select": _select(initial_conversation=Str(255)),
    "multi_conversations_select": _select(),
    "channels_select": _select(initial_channel=Str(255)),
    "multi_channels_select": _select(),
    "overflow": Shape(
        {
            "action_id": _ID,
            "options": Items(_OPTION, max=5, min=1, required=True),
            "confirm": _CONFIRM,
        }
    ),
    "datepicker": _select(initial_date=Str(10)),
    "timepicker": _select(initial_time=Str(5)),
    "datetimepicker": Shape({"action_id": _ID, "confirm": _CONFIRM}),
    "checkboxes": Shape(
        {
            "action_id": _ID,
            "options": Items(_OPTION, max=10, min=1, required=True),
            "initial_options": Items(_OPTION, max=10),
            "confirm": _CONFIRM,
        }
    ),
    "radio_buttons": Shape(
        {
            "action_id": _ID,
            "options": Items(_OPTION, max=10, min=1, required=True),
            "initial_option": _OPTION,
            "confirm": _CONFIRM,
        }
    ),
    "plain_text_input": Shape(
        {"action_id": _ID, "placeholder": _PLACEHOLDER, "initial_value": Str(3000)}
    ),
    "email_text_input": Shape({"action_id": _ID, "placeholder": _PLACEHOLDER}),
    "url_text_input": Shape({"action_id": _ID, "placeholder": _PLACEHOLDER}),
    "number_input": Shape({"action_id": _ID, "placeholder": _PLACEHOLDER}),
    "file_input": Shape({"action_id": _ID}),
    "rich_text_input": Shape({"action_id": _ID, "placeholder": _PLACEHOLDER}),
    "workflow_button": Shape({"action_id": _ID, "text": Text(50, plain=True, required=True)}),
    "image": Shape(
        {"image_url": Str(3000), "alt_text": Str(2000, required=True)},
        one_of=("image_url", "slack_file"),
    ),
}

# Composition objects that have no ``type`` of their own.
OBJECTS: dict[str, Shape] = {
    "option": Shape(
        {
            "text": Text(75, required=True),
            "value": Str(150, required=True),
            "description": Text(75),
            "url": Str(3000),
        }
    ),
    "option_group": Shape(
        {
            "label": Text(75, plain=True, required=True),
            "options": Items(_OPTION, max=100, min=1, required=True),
        }
    ),
    "confirm": Shape(
        {
            "title": Text(100, plain=True, required=True),
            "text": Text(300, required=True),
            "confirm": Text(30, plain=True, required=True),
            "deny": Text(30, plain=True, required=True),
        }
    ),
}

VIEWS: dict[str, Shape] = {
    "modal": Shape(
        {
            "title": Text(24, plain=True, required=True),
            "submit": Text(24, plain=True),
            "close": Text(24, plain=True),
            "blocks": Items(None, max=VIEW_BLOCKS, required=True),
            "private_metadata": Str(3000),
            "callback_id": Str(255),
            "external_id": Str(255),
        }
    ),
    "home": Shape(
        {
            "blocks": Items(None, max=VIEW_BLOCKS, required=True),
            "private_metadata": Str(3000),
            "callback_id": Str(255),
            "external_id": Str(255),
        }
    ),
}

TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})


def _too_long(limit: int) -> str:
    return f"must be less than {limit + 1} characters"


def _check_text(value: Any, spec: Text, ptr: str) -> Iterator[Problem]:
    if isinstance(value, str):
        yield Problem("expected an object, got a string", ptr)
        return
    if not isinstance(value, dict):
        yield Problem("expected a text object", ptr)
        return
    kind = value.get("type")
    if kind not in TEXT_TYPES:
        yield Problem("must be one of plain_text, mrkdwn", f"{ptr}/type")
    elif spec.plain and kind != "plain_text":
        yield Problem("must be plain_text", f"{ptr}/type")
    text = value.get("text")
    if not isinstance(text, str):
        yield Problem("missing required field: text", f"{ptr}/text")
    elif not text:
        yield Problem("must be more than 0 characters", f"{ptr}/text")
    elif len(text) > spec.max:
        yield Problem(_too_long(spec.max), f"{ptr}/text")


def _check_obj(value: Any, spec: Obj, ptr: str, ids: _Ids) -> Iterator[Problem]:
    if not isinstance(value, dict):
        yield Problem("expected an object", ptr)
        return
    if spec.kind is not None:
        yield from _check_shape(value, OBJECTS[spec.kind], ptr, ids)
        return
    kind = value.get("type")
    if not isinstance(kind, str):
        yield Problem("missing required field: type", f"{ptr}/type")
        return
    if spec.kinds is not None and kind not in spec.kinds:
        yield Problem(f"unsupported type: {kind}", f"{ptr}/type")
        return
    if kind in TEXT_TYPES:
        yield from _check_text(value, Text(3000), ptr)
        return
    shape = ELEMENTS.get(kind)
    if shape is None:
        yield Problem(f"unsupported type: {kind}", f"{ptr}/type")
        return
    action_id = value.get("action_id")
    if isinstance(action_id, str):
        if action_id in ids.actions:
            yield Problem(f"duplicate action_id: {action_id}", f"{ptr}/action_id")
        ids.actions.add(action_id)
    yield from _check_shape(value, shape, ptr, ids)


def _check_field(value: Any, spec: FieldSpec, ptr: str, ids: _Ids) -> Iterator[Problem]:
    if isinstance(spec, Text):
        yield from _check_text(value, spec, ptr)
    elif isinstance(spec, Str):
        if not isinstance(value, str):
            yield Problem("expected a string", ptr)
        elif len(value) > spec.max:
            yield Problem(_too_long(spec.max), ptr)
    elif isinstance(spec, Obj):
        yield from _check_obj(value, spec, ptr, ids)
    else:
        if not isinstance(value, list):
            yield Problem("expected an array", ptr)
            return
        if len(value) > spec.max:
            yield Problem(f"must provide no more than {spec.max} items", ptr)
        if len(value) < spec.min:
            yield Problem(f"must provide at least {spec.min} items", ptr)
        if spec.item is not None:
            for index, item in enumerate(value):
                yield from _check_field(item, spec.item, f"{ptr}/{index}", ids)


def _check_shape(value: dict[str, Any], shape: Shape, ptr: str, ids: _Ids) -> Iterator[Problem]:
    if shape.one_of and not any(value.get(name) is not None for name in shape.one_of):
        names = " or ".join(shape.one_of)
        yield Problem(f"must provide {names}", ptr)
    for name, spec in shape.fields.items():
        item = value.get(name)
        if item is None:
            if spec.required:
                yield Problem(f"missing required field: {name}", f"{ptr}/{name}")
            continue
        yield from _check_field(item, spec, f"{ptr}/{name}", ids)


@dataclass
class _Ids:
    """IDs seen so far: block_ids are unique per message or view, action_ids per block."""

    blocks: set[str] = field(default_factory=set)
    actions: set[str] = field(default_factory=set)


def validate_blocks(
    blocks: Any, *, limit: int = MESSAGE_BLOCKS, ptr: str = "/blocks"
) -> list[Problem]:
    """Every problem Slack would report for a ``blocks`` array."""
    if not isinstance(blocks, list):
        return [Problem("expected an array", ptr)]
    problems: list[Problem] = []
    if len(blocks) > limit:
        problems.append(Problem(f"must provide no more than {limit} items", ptr))
    ids = _Ids()
    for index, block in enumerate(blocks):
        here = f"{ptr}/{index}"
        if not isinstance(block, dict):
            problems.append(Problem("expected an object", here))
            continue
        kind = block.get("type")
        shape = BLOCKS.get(kind) if isinstance(kind, str) else None
        if shape is None:
            problems.append(Problem(f"unsupported block type: {kind}", f"{here}/type"))
            continue
        block_id = block.get("block_id")
        if isinstance(block_id, str):
            if block_id in ids.blocks:
                problems.append(Problem(f"duplicate block_id: {block_id}", f"{here}/block_id"))
            ids.blocks.add(block_id)
        ids.actions = set()
        problems.extend(_check_shape(block, shape, here, ids))
    return problems


def validate_view(view: Any, *, ptr: str = "/view") -> list[Problem]:
    """Every problem Slack would report for a modal or Home tab view."""
    if not isinstance(view, dict):
        return [Problem("expected an object", ptr)]
    kind = view.get("type")
    shape = VIEWS.get(kind) if isinstance(kind, str) else None
    if shape is None:
        return [Problem("must be one of modal, home", f"{ptr}/type")]
    problems = list(_check_shape(view, shape, ptr, _Ids()))
    blocks = view.get("blocks")
    if isinstance(blocks, list):
        # Slack counts and reports the block list with the view's own limit.
        problems = [p for p in problems if p.pointer != f"{ptr}/blocks"]
        problems.extend(validate_blocks(blocks, limit=VIEW_BLOCKS, ptr=f"{ptr}/blocks"))
        has_input = any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if kind == "modal" and has_input and view.get("submit") is None:
            problems.append(Problem("must provide submit when blocks contain input", ptr))
    return problems


def render(problems: list[Problem]) -> tuple[list[str], list[str]]:
    """Slack's two renderings of problems: ``errors`` and ``response_metadata.messages``."""
    errors = [str(p) for p in problems]
    return errors, [f"[ERROR] {e}" for e in errors]
