"""NeuralMemory's engine: an event-sourced graph memory with spreading-activation recall.

    from engine import Store
    with Store() as store:                 # $NMEM_HOME or ~/.neuralmemory
        brain = store.brain("work")
        brain.remember("Alice moved payments to PostgreSQL 16 on Tuesday")
        brain.recall("what database do payments use?").context
        brain.at("3 days ago").recall("payments")   # as the brain would have answered then

Names are imported on first use, so `import engine.errors` (or `nmem --help`) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .api import (
        Changed,
        HistoryEntry,
        Memory,
        MemoryInput,
        RecalledMemory,
        RecallResult,
        Remembered,
    )
    from .brain import Brain
    from .errors import (
        DatabaseError,
        DataError,
        Error,
        InputError,
        IntegrityError,
        InterfaceError,
        NotFoundError,
        OperationalError,
        SensitiveContentError,
    )
    from .model import MemoryType, NeuronType, SynapseType
    from .reads import BrainView
    from .store import Store, default_home

_WHERE = {
    "Changed": "api",
    "HistoryEntry": "api",
    "Memory": "api",
    "MemoryInput": "api",
    "RecalledMemory": "api",
    "RecallResult": "api",
    "Remembered": "api",
    "Brain": "brain",
    "BrainView": "reads",
    "DatabaseError": "errors",
    "DataError": "errors",
    "Error": "errors",
    "InputError": "errors",
    "IntegrityError": "errors",
    "InterfaceError": "errors",
    "NotFoundError": "errors",
    "OperationalError": "errors",
    "SensitiveContentError": "errors",
    "MemoryType": "model",
    "NeuronType": "model",
    "SynapseType": "model",
    "Store": "store",
    "default_home": "store",
}

__all__ = [
    "Brain",
    "BrainView",
    "Changed",
    "DataError",
    "DatabaseError",
    "Error",
    "HistoryEntry",
    "InputError",
    "IntegrityError",
    "InterfaceError",
    "Memory",
    "MemoryInput",
    "MemoryType",
    "NeuronType",
    "NotFoundError",
    "OperationalError",
    "RecallResult",
    "RecalledMemory",
    "Remembered",
    "SensitiveContentError",
    "Store",
    "SynapseType",
    "default_home",
]


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
