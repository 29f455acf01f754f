"""`debrief serve | sandbox | migrate | doctor | rotate-keys | summarize`, and each provider's
own commands (``Provider.commands``)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.plugins import CliCommand

#: What each command runs on, beyond the settings and the logs: imported first (see _load).
_MODULES = {
    "sandbox": ("sandbox.run",),
    "serve": ("bot.app",),
    "summarize": ("understanding.embedded",),
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="debrief", description="Meeting notetakers in Slack.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the app: web, workers and scheduler")
    sandbox = sub.add_parser("sandbox", help="run the real app against local stand-ins")
    sandbox.add_argument("--port", type=int, default=None, help="port of the sandbox page")
    sandbox.add_argument("--no-prompt", action="store_true", help="no terminal prompt")
    sandbox.add_argument(
        "--model",
        action="store_true",
        help="understand meetings with the model engine, asking the stand-in model server",
    )
    sub.add_parser("migrate", help="bring the database schema up to date")
    doctor = sub.add_parser("doctor", help="check the configuration and report")
    doctor.add_argument(
        "--online",
        action="store_true",
        help="also try each credential (Slack's auth.test, each provider)",
    )
    sub.add_parser("rotate-keys", help="re-encrypt every stored secret with the newest key")
    own = _provider_commands(sub)
    summary = sub.add_parser("summarize", help="summarize transcripts: a JSON line per FILE")
    summary.add_argument("--engine", choices=("embedded", "model"), default="embedded")
    summary.add_argument("--words", type=int, default=110, metavar="N", help="summary length")
    summary.add_argument("files", nargs="+", metavar="FILE", help="JSON turns or Speaker: lines")
    args = parser.parse_args(argv)
    if not _load(args.command):
        return 130
    from bot.config import SettingsError, load_settings
    from bot.logs import configure_logging

    if args.command == "sandbox":
        from sandbox.run import run_sandbox

        return run_sandbox(port=args.port, prompt=not args.no_prompt, model=args.model)
    # Every setting is checked before anything touches a database or a file, and every problem
    # is told at once: an operator fixes them in one go, not one crash at a time.
    try:
        settings = load_settings(check=args.command == "serve")
    except SettingsError as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.secret_values())
    if args.command == "summarize":
        return asyncio.run(summarize(settings, args.files, engine=args.engine, words=args.words))
    if args.command == "serve":
        return serve(settings)
    if args.command == "migrate":
        return asyncio.run(migrate(settings))
    if args.command == "rotate-keys":
        return asyncio.run(rotate_keys(settings))
    if args.command in own:
        command = own[args.command][args.provider_command]
        return asyncio.run(command.run(settings))
    from bot.doctor import run_doctor

    return asyncio.run(run_doctor(settings, online=args.online, out=sys.stdout))


async def summarize(settings: Settings, files: list[str], *, engine: str, words: int) -> int:
    """`debrief summarize`: the embedded engine, or with ``--engine model`` the configured
    model's (on this process's own budget)."""
    from providers.http import build_http_client
    from understanding.cli import summarize_files
    from understanding.embedded import EmbeddedEngine

    if engine == "embedded":
        return await summarize_files(files, engine=EmbeddedEngine(), words=words)
    from bot.plugins import features

    async with build_http_client() as http:
        chosen = features().standalone_engine(settings, http)
        if chosen.name != "model":
            print(
                "debrief summarize: no model configured: set DEBRIEF_LLM_URL and DEBRIEF_LLM_MODEL",
                file=sys.stderr,
            )
            return 2
        return await summarize_files(files, engine=chosen, words=words)


def _provider_commands(sub: Any) -> dict[str, dict[str, CliCommand]]:
    """The installed providers' own subcommands, added to ``sub``: by group, then by name."""
    from bot.plugins import installed

    groups: dict[str, dict[str, CliCommand]] = {}
    parsers: dict[str, Any] = {}
    for provider in installed():
        for command in provider.commands:
            if command.group not in parsers:
                group = sub.add_parser(command.group, help=command.group_help)
                parsers[command.group] = group.add_subparsers(
                    dest="provider_command", required=True
                )
                groups[command.group] = {}
            parsers[command.group].add_parser(command.name, help=command.help)
            groups[command.group][command.name] = command
    return groups


def _load(command: str) -> bool:
    """Import what ``command`` runs on, which takes about a second; False when Ctrl-C came
    meanwhile: nothing has started then, so there is nothing to stop and no traceback to show."""
    try:
        for name in ("bot.config", "bot.logs", *_MODULES.get(command, ())):
            __import__(name)
    except KeyboardInterrupt:
        return False
    return True


def serve(settings: Settings) -> int:
    from aiohttp import web

    from bot.app import create_web_app

    web.run_app(
        create_web_app(settings),
        loop=event_loop(),
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=lambda text: print(f"Debrief listening on {settings.host}:{settings.port}"),
    )
    return 0


def event_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (Linux, macOS): the same server spends about half the CPU
    on each request; the standard loop elsewhere."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


async def migrate(settings: Settings) -> int:
    from bot.store.db import create_engine
    from bot.store.migrate import pending, upgrade

    engine = create_engine(settings.database_url)
    try:
        todo = await pending(engine)
        await upgrade(engine)
    finally:
        await engine.dispose()
    print(f"database is up to date ({len(todo)} migration(s) applied)")
    return 0


async def rotate_keys(settings: Settings, out: TextIO = sys.stdout) -> int:
    """Re-encrypt every row of ``stored_secrets`` with the newest key, all or nothing."""
    from bot.crypto import SecretBox, UnreadableSecret
    from bot.store.db import create_engine, create_sessionmaker, transaction
    from bot.store.migrate import pending
    from bot.store.secrets import rotate_all

    try:
        box = SecretBox(settings.encryption_key_list())
    except ValueError as exc:
        print(exc, file=out)
        return 1
    if not box.enabled:
        print("DEBRIEF_ENCRYPTION_KEYS is not set: there is no key to rotate to", file=out)
        return 1
    engine = create_engine(settings.database_url)
    rotated = 0
    try:
        if await pending(engine):
            print("the database schema is behind: run `debrief migrate` first", file=out)
            return 1
        async with transaction(create_sessionmaker(engine)) as session:
            try:
                rotated = await rotate_all(session, box)
            except UnreadableSecret as exc:
                print(
                    f"{exc}; nothing was changed. Put back the key it was encrypted with and run "
                    "this again (or delete that secret).",
                    file=out,
                )
                raise
    except UnreadableSecret:
        return 1
    finally:
        await engine.dispose()
    print(
        f"re-encrypted {rotated} stored secret(s) with the newest key; keys after the first in "
        "DEBRIEF_ENCRYPTION_KEYS can now be removed",
        file=out,
    )
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
