"""Which adapter and which batch engine serve a model: one adapter module plus one entry in each table here.

Adapter modules import their SDK, so they are imported only when a command needs
them; `--help` and the commands that never call a model stay light.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from planner.providers.base import Provider
    from planner.providers.batch import Engine
    from planner.registry import ModelSpec

# provider -> the adapter module that speaks its wire format
ADAPTERS = {
    "openai": "planner.providers.openai_chat",
    "openrouter": "planner.providers.openai_chat",
    "compatible": "planner.providers.openai_chat",
    "anthropic": "planner.providers.anthropic_messages",
}
# provider -> the module that drives its asynchronous batch engine (the others run synchronously)
BATCH_ENGINES = {
    "openai": "planner.providers.openai_batch",
    "anthropic": "planner.providers.anthropic_batch",
}


def adapter(spec: ModelSpec) -> ModuleType:
    return importlib.import_module(ADAPTERS[spec.provider])


def make_provider(spec: ModelSpec, base_url: str | None, timeout: float | None) -> Provider:
    """The model's synchronous adapter; `timeout` None takes the model's own default deadline."""
    return adapter(spec).create(spec, base_url=base_url, timeout=spec.timeout if timeout is None else timeout)


def make_batch_engine(spec: ModelSpec, base_url: str | None, timeout: float | None) -> Engine | None:
    """The model's provider's batch engine, or None when it has none (OpenRouter, compatible servers)."""
    module = BATCH_ENGINES.get(spec.provider)
    if module is None:
        return None
    return importlib.import_module(module).create(spec, base_url, spec.timeout if timeout is None else timeout)
