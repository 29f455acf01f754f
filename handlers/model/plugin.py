"""The model endpoint's descriptor: its settings, its budgeted client, its doctor line and probe."""

from __future__ import annotations

import httpx

from bot.budgets import SharedBudgets
from bot.config import Settings
from bot.plugins import Probe, Provider, Toggle
from handlers.model import register
from handlers.model.settings import ModelSettings, model_settings
from providers.llm import ChatCompletionsClient
from providers.llm.engine import build_client

#: Never said to a person: no feature requires the model (the embedded engine stands in).
NOT_SET_UP = "No model is set up on this Debrief; its built-in engine works without one."


def build(
    settings: Settings, http: httpx.AsyncClient, budgets: SharedBudgets
) -> ChatCompletionsClient | None:
    return build_client(model_settings(settings), http, budgets)


def probe(settings: Settings, http: httpx.AsyncClient) -> tuple[str, Probe] | None:
    own = model_settings(settings)
    chat = build_client(own, http)
    if chat is None:
        return None
    return ("DEBRIEF_LLM_API_KEY" if own.key() else "DEBRIEF_LLM_URL"), chat.list_models


MODEL: Provider[ChatCompletionsClient, ModelSettings] = Provider(
    name="model-endpoint",
    display_name="The model endpoint",
    settings=ModelSettings,
    client=ChatCompletionsClient,
    build_client=build,
    not_set_up=NOT_SET_UP,
    register=register,
    toggles=(Toggle("Model engine", ("DEBRIEF_LLM_URL", "DEBRIEF_LLM_MODEL")),),
    probe=probe,
    meetings=False,
    stand_in="sandbox.llm:LLMPlugin",
)
