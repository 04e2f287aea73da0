"""Sonántica federation protocol, sans-IO (see specs/protocol.md).

Pure state machines and data types: no sockets, files, clocks or global
randomness. ``node/federation`` drives them: it feeds bytes, records and
``now`` (integer ms) in, and performs the actions that come out.
"""

from .catalogue import CatalogueLog, Entry, Head, LogReplica
from .chunks import CHUNK_SIZE, FileIdBuilder, chunk_hash, file_id_of, merkle_root, parse_file_id, proof, verify_chunk
from .errors import LocalProtocolError, ProtocolError, RemoteProtocolError
from .gossip import (
    Action, DropLog, GossipConfig, GossipMachine, PeerState, Send, ServeLog, StoreEntries, StoreRecords,
    StoreSnapshot, serve_log,
)
from .identity import NodeId, NodeIdentity
from .invites import Invite, InviteBook, JoinRequest
from .membership import Admission, Announce, Genesis, MemberInfo, MembershipState, Revocation
from .messages import Message, parse, serialize
from .peer_auth import RequestVerifier, sign_request
from .records import TrackRecord
from .snapshots import Manifest, Page, SnapshotReceiver, make_snapshot
from .swim import SwimConfig

__all__ = [
    "Action", "Admission", "Announce", "CHUNK_SIZE", "CatalogueLog", "DropLog", "Entry", "FileIdBuilder", "Genesis",
    "GossipConfig", "GossipMachine", "Head", "Invite", "InviteBook", "JoinRequest", "LocalProtocolError",
    "LogReplica", "Manifest", "MemberInfo", "MembershipState", "Message", "NodeId", "NodeIdentity", "Page",
    "PeerState", "ProtocolError", "RemoteProtocolError", "RequestVerifier", "Revocation", "Send", "ServeLog",
    "SnapshotReceiver", "StoreEntries", "StoreRecords", "StoreSnapshot", "SwimConfig", "TrackRecord",
    "chunk_hash", "file_id_of", "make_snapshot", "merkle_root", "parse", "parse_file_id", "proof",
    "serialize", "serve_log", "sign_request", "verify_chunk",
]
