"""Errors, named after PEP 249's classes so callers can catch by kind.

Every error a user can cause (bad input, unknown id) is an `InputError` or `NotFoundError`;
adapters turn those into one-line messages and exit code 2 / 1 without a traceback.
"""

from __future__ import annotations


class Error(Exception):
    """Base of every NeuralMemory error."""


class InterfaceError(Error):
    """The store was used wrongly (closed, opened twice exclusively)."""


class DatabaseError(Error):
    """Something is wrong with the stored data or the storage layer."""


class DataError(DatabaseError):
    """Stored bytes cannot be decoded: a corrupt log record or checkpoint."""


class OperationalError(DatabaseError):
    """The storage could not do its job now: disk full, store busy, map too small."""


class TargetError(OperationalError):
    """An export target (a graph database, an output file) could not be used; the brain's own
    store is fine, so adapters name the target rather than saying "store error"."""


class IntegrityError(DatabaseError):
    """The log is inconsistent with itself (gap in sequence, projection divergence)."""


class InputError(Error, ValueError):
    """The caller's input is invalid; nothing was changed."""


class SensitiveContentError(InputError):
    """A text holds secrets and the policy is to block it; nothing was stored. `found` names
    what was found (never the secret); each surface says how to go on there (the CLI's
    --redact/--force, an agent's "remove the secret")."""

    def __init__(self, message: str, found: str = "", field: str = "") -> None:
        super().__init__(message)
        self.found = found or message
        self.field = field  # which field held it ("" for a memory's text)


class NotFoundError(Error, LookupError):
    """An id, name or prefix matched nothing."""
