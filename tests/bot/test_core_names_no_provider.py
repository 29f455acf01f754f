"""The core names no provider: nothing in ``bot/`` (its migrations aside) imports a provider's or
a feature's module, and no identifier or string there names an installed provider. What the core
knows of providers, it is given by the one registry (``bot.plugins.installed``)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from bot.plugins import REGISTRY_MODULE, installed

BOT = Path(__file__).resolve().parents[2] / "bot"
MIGRATIONS = BOT / "store" / "migrations"

#: Modules outside ``bot/`` that the core may import: provider-neutral libraries, none of them
#: any provider's or feature's.
NEUTRAL = frozenset(
    {
        "providers.budget",
        "providers.errors",
        "providers.http",
        "providers.jsoncodec",
        "providers.webhooks",
    }
)


def core_files() -> list[Path]:
    return sorted(p for p in BOT.rglob("*.py") if MIGRATIONS not in p.parents)


def provider_words() -> list[str]:
    words = {p.name.lower() for p in installed()}
    words |= {p.display_name.lower().split(".")[0] for p in installed()}
    return sorted(words)


def imports(tree: ast.AST) -> Iterator[tuple[int, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def names(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """Every identifier and string literal (docstrings too), with its line."""
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Name):
            yield line, node.id
        elif isinstance(node, ast.Attribute):
            yield line, node.attr
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            yield line, node.name
        elif isinstance(node, ast.arg) or (isinstance(node, ast.keyword) and node.arg):
            yield line, node.arg
        elif isinstance(node, ast.alias):
            yield line, node.asname or node.name
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield line, node.value


def findings() -> list[str]:
    words = provider_words()
    found = []
    for path in core_files():
        where = path.relative_to(BOT.parent)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for line, module in imports(tree):
            top = module.split(".")[0]
            if top in ("providers", "handlers") and not any(
                module == n or module.startswith(n + ".") for n in NEUTRAL
            ):
                found.append(f"{where}:{line}: imports {module}")
        for line, name in names(tree):
            lowered = name.lower()
            for word in words:
                if word in lowered:
                    found.append(f"{where}:{line}: names {word}: {name[:60]!r}")
    return found


def test_the_core_imports_no_provider_or_feature_and_names_none() -> None:
    assert findings() == []


def test_the_check_sees_what_it_must() -> None:
    """The words come from the registry, and the walk reaches the modules that build from it."""
    assert {"attendee", "otter", "whereby", "claritalk"} <= set(provider_words())
    files = {p.name for p in core_files()}
    assert {"app.py", "config.py", "services.py", "budgets.py", "cli.py", "models.py"} <= files
    assert "env.py" not in files, "migrations are the one exception"
    assert REGISTRY_MODULE.split(".")[0] == "handlers"
