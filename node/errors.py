"""Errors of the node, each carrying a message a user can act on.

The CLI prints ``str(exc)`` of a :class:`NodeError` on one line and exits
non-zero; the HTTP layer maps them to its one error shape.
"""

from __future__ import annotations


class NodeError(Exception):
    """Base for every error the node reports to a person."""

    exit_code = 1


class ConfigError(NodeError):
    """The data folder or config file is missing or wrong."""


class AlreadyInitialised(NodeError):
    """``init`` on a data folder that already holds a node."""


class NotInitialised(NodeError):
    """A command that needs a node ran on a data folder without one."""


class NodeIsRunning(NodeError):
    """An action that must not run while ``serve`` holds the data folder."""


class NotFound(NodeError):
    """A named object (user, track, album…) does not exist."""


class InvalidInput(NodeError):
    """A value given by a person or client is not acceptable."""


class Conflict(InvalidInput):
    """The value is well formed but collides with what exists (a user name already taken)."""


class FileOperationError(NodeError):
    """A file in the library could not be read; the batch goes on (as in beets)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class Forbidden(NodeError):
    """The caller's role does not allow this action on this account (see :mod:`sonantica.node.accounts`)."""
