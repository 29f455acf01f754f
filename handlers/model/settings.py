"""The model endpoint's settings (``DEBRIEF_LLM_*``), read from the environment by the core."""

from __future__ import annotations

from bot.config import Settings
from bot.plugins import SETTINGS_CONFIG, ProviderSettings
from providers.llm.settings import LLMSettings


class ModelSettings(LLMSettings, ProviderSettings):
    """``providers.llm``'s settings, read as a plug-in's section (``.env`` included)."""

    model_config = SETTINGS_CONFIG


def model_settings(settings: Settings) -> ModelSettings:
    return settings.section(ModelSettings)
