"""The model endpoint: any OpenAI-compatible chat-completions API, as an outbound adapter."""

from providers.llm.client import (
    MODEL_RETRY,
    PROVIDER,
    ChatCompletionsClient,
    llm_rate_limiter,
)
from providers.llm.engine import BUDGET_NAME, build_client, build_engine
from providers.llm.models import ChatCompletion, Choice, Message, ModelInfo, ModelList, Usage
from providers.llm.settings import LLMSettings

__all__ = [
    "BUDGET_NAME",
    "MODEL_RETRY",
    "PROVIDER",
    "ChatCompletion",
    "ChatCompletionsClient",
    "Choice",
    "LLMSettings",
    "Message",
    "ModelInfo",
    "ModelList",
    "Usage",
    "build_client",
    "build_engine",
    "llm_rate_limiter",
]
