"""Typed errors of the library; every message says how to fix the problem.

The library only raises these. Turning them into one-line messages for a person is left to
the CLI (`rag.cli`) and the page (`ui.app`).
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: anything the user can act on."""


class ConfigError(RagError):
    """A setting is invalid or contradicts another one."""


class IndexMissingError(RagError):
    """No index has been built yet at the configured location."""


class IndexMismatchError(RagError):
    """The saved index was built with another model or chunking setup."""


class IndexCorruptError(RagError):
    """The saved index cannot be read (damaged files)."""


class IndexLockedError(RagError):
    """Another process is updating the index right now."""


class DocumentError(RagError):
    """An article cannot be read or has no usable text; the reason is in the message."""


class ModelUnavailableError(RagError):
    """A model (embedder or LLM) cannot be loaded or reached."""


class EmptyQuestionError(RagError, ValueError):
    """The question is empty or whitespace."""


class DatasetError(RagError):
    """An evaluation dataset folder is missing files or has malformed lines."""


class StoreUnavailableError(RagError):
    """The shared index store (Postgres) cannot be reached or used; the message names the
    URL with its password masked and the fix."""


class IndexChangedError(RagError):
    """The index was replaced by a newer generation during a search; asking again reloads it."""
