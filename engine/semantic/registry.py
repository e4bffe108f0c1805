"""Model ids -> embedders, loaded on first use and kept for the process.

The log records a model id, never a model: a brain whose model cannot be loaded here (the
extra is missing) still opens, replays and answers lexically; only writes that need new
vectors refuse, with the command that fixes it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from ..errors import DataError, InputError, OperationalError
from .base import MODEL_ID, Embedder

DEFAULT_MODEL = "minilm-l6-v2-static256"
INSTALL_HINT = "install the extra: pip install 'neuralmemory[semantic]'"

Factory = Callable[[], Embedder]


def _static() -> Embedder:
    from .static import StaticEmbedder

    return StaticEmbedder()


_factories: dict[str, Factory] = {DEFAULT_MODEL: _static}
_loaded: dict[str, Embedder] = {}
_failed: set[str] = set()  # ids that did not load here: not retried on every recall
_lock = threading.Lock()


def register(model: str, factory: Factory) -> None:
    """Make a model id loadable (tests register deterministic fakes this way)."""
    if not MODEL_ID.match(model):
        raise InputError(f"model id {model!r} must be 1-64 of a-z, 0-9, '.', '-'")
    with _lock:
        _factories[model] = factory
        _loaded.pop(model, None)
        _failed.discard(model)


def unregister(model: str) -> None:
    """Forget a model id registered with `register` (the shipped ones stay)."""
    if model == DEFAULT_MODEL:
        raise InputError(f"{model} ships with NeuralMemory and cannot be unregistered")
    with _lock:
        _factories.pop(model, None)
        _loaded.pop(model, None)
        _failed.discard(model)


def known() -> list[str]:
    return sorted(_factories)


def check(model: str) -> str:
    """The model id if this process knows it, else InputError naming the known ones."""
    if model not in _factories:
        raise InputError(f"unknown embedding model {model!r}; known: {', '.join(known())}")
    return model


def load(model: str) -> Embedder:
    """The embedder of `model`; OperationalError (with the fix) when it cannot be loaded."""
    check(model)
    with _lock:
        got = _loaded.get(model)
        if got is None:
            try:
                got = _factories[model]()
            except ImportError as exc:
                raise OperationalError(
                    f"embedding model {model!r} needs a package that is missing ({exc.name}); "
                    f"{INSTALL_HINT}"
                ) from None
            _loaded[model] = got
        return got


def available(model: str) -> bool:
    """Whether `model` loads in this process (reads fall back to lexical recall if not)."""
    if model in _loaded:
        return True
    if model in _failed or model not in _factories:
        return False
    try:
        load(model)
    except (OperationalError, DataError):
        _failed.add(model)
        return False
    return True
