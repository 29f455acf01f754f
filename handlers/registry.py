"""The one registry: every installed provider's descriptor, and what the core needs of the
features that are no provider's. The core (``bot/``) reaches outside itself only through this
module (``bot.plugins.installed``); a fifth provider is one more line in ``PROVIDERS``.
"""

from __future__ import annotations

from typing import Any

import httpx

from bot.config import Settings
from handlers import periodic_jobs, register_all
from handlers.attendee.plugin import PROVIDER as ATTENDEE
from handlers.calendar import tables as calendar_tables  # noqa: F401  (its tables)
from handlers.claritalk.plugin import PROVIDER as CLARITALK
from handlers.model.plugin import MODEL
from handlers.model.settings import model_settings
from handlers.ops import notify_dead_job
from handlers.otter.plugin import PROVIDER as OTTER
from handlers.webhooks import read_body
from handlers.whereby.plugin import PROVIDER as WHEREBY
from handlers.wiring import Wiring
from providers.llm import ChatCompletionsClient
from providers.llm.engine import build_client
from understanding.embedded import EmbeddedEngine
from understanding.model import ModelEngine
from understanding.types import Engine

#: The providers, in the order their subcommands appear in `/debrief help` and their lines in
#: `debrief doctor`.
PROVIDERS = (ATTENDEE, OTTER, WHEREBY, CLARITALK)
#: Outbound adapters that bring no meetings but serve the features: settings, a budgeted
#: client and a doctor line each, like a provider's.
ADAPTERS = (MODEL,)


def understanding_engine(clients: dict[type, Any]) -> Engine:
    """The meeting-understanding engine: the model one (falling back to the embedded engine,
    and saying so) when a model endpoint is configured, else the embedded engine."""
    embedded = EmbeddedEngine()
    chat = clients.get(ChatCompletionsClient)
    return ModelEngine(chat, embedded) if chat is not None else embedded


def standalone_engine(settings: Settings, http: httpx.AsyncClient) -> Engine:
    """The engine for one-off use outside the app (`debrief summarize`): the model one on this
    process's own budget when a model endpoint is configured, else the embedded engine."""
    return understanding_engine(
        {ChatCompletionsClient: build_client(model_settings(settings), http)}
    )


__all__ = [
    "ADAPTERS",
    "PROVIDERS",
    "Wiring",
    "notify_dead_job",
    "periodic_jobs",
    "read_body",
    "register_all",
    "standalone_engine",
    "understanding_engine",
]
