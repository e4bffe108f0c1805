"""NeuralMemory's engine: an event-sourced graph memory with spreading-activation recall.

from engine import Store
with Store() as store:                 # $NMEM_HOME or ~/.neuralmemory
    brain = store.brain("work")
    brain.remember("Alice moved payments to PostgreSQL 16 on Tuesday")
    brain.recall("what database do payments use?").context
    brain.at("3 days ago").recall("payments")   # as the brain would have answered then
"""

from .api import HistoryEntry, Memory, MemoryInput, RecalledMemory, RecallResult, Remembered
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
)
from .model import MemoryType, NeuronType, SynapseType
from .reads import BrainView
from .store import Store, default_home

__all__ = [
    "Brain",
    "BrainView",
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
    "Store",
    "SynapseType",
    "default_home",
]
