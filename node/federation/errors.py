"""Errors of federation content transfer, each naming the peer or file and the reason.

::

    FederationError (NodeError)
     ├── PeerUnavailable(node_id, reason)   the peer cannot serve now: retry later
     │    │                                 or elsewhere (timeout, reset, 503, ...)
     │    └── LeavesPending(node_id, hashed, size)  it is still hashing the file
     │                                      (``hashed`` bytes so far): ask again soon
     ├── PeerRejected(node_id, reason)      the peer refused us or sent bad data:
     │                                      give up on this peer for this request
     └── TransferFailed(file_id, reason)    every holder of a file failed for some
                                            chunk; nothing more can be done now

The peer client maps every foreign exception (httpx, TLS, status codes) to one
of the first two, once, keeping the cause (``raise ... from exc``); the
transfer layer only ever sees these two from a source.
"""

from __future__ import annotations

from ..errors import NodeError

__all__ = ["FederationError", "LeavesPending", "PeerRejected", "PeerUnavailable", "TransferFailed"]


class FederationError(NodeError):
    """Base class of every error the federation package raises on purpose."""


class PeerUnavailable(FederationError):
    """The peer cannot serve this request now; another holder (or later) may."""

    def __init__(self, node_id: str, reason: str) -> None:
        super().__init__(f"peer {node_id} is unavailable: {reason}")
        self.node_id = node_id
        self.reason = reason


class LeavesPending(PeerUnavailable):
    """The peer is computing the file's leaf hashes (``hashed`` of ``size`` bytes so far)."""

    def __init__(self, node_id: str, hashed: int, size: int) -> None:
        super().__init__(node_id, f"hashing the file ({hashed} of {size} bytes)")
        self.hashed = hashed
        self.size = size


class PeerRejected(FederationError):
    """The peer refused the request (or sent data we refuse); do not ask it again."""

    def __init__(self, node_id: str, reason: str) -> None:
        super().__init__(f"peer {node_id} refused: {reason}")
        self.node_id = node_id
        self.reason = reason


class TransferFailed(FederationError):
    """No holder could deliver a verified copy of some chunk of ``file_id``."""

    def __init__(self, file_id: str, reason: str) -> None:
        super().__init__(f"cannot fetch file {file_id}: {reason}")
        self.file_id = file_id
        self.reason = reason
