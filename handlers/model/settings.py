"""The model endpoint's settings (``DEBRIEF_LLM_*``), read from the environment by the core."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from bot.config import Settings
from bot.plugins import ProviderSettings
from providers.llm.settings import LLMSettings


class ModelSettings(LLMSettings, ProviderSettings):
    """``providers.llm``'s settings, read as a plug-in's section (``.env`` included)."""

    model_config = SettingsConfigDict(**ProviderSettings.model_config)


def model_settings(settings: Settings) -> ModelSettings:
    return settings.section(ModelSettings)
