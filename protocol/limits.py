"""Every protocol version number and size bound, in one place.

Changing any value here is a protocol change: bump :data:`PROTOCOL_VERSION`
and update ``specs/protocol.md`` (a test pins the spec's table to this file).
Times are integer milliseconds throughout the protocol.
"""

from __future__ import annotations

#: Version carried in every message envelope ("v"). Unknown versions are refused.
PROTOCOL_VERSION = 1
#: Versions this implementation accepts.
SUPPORTED_VERSIONS = frozenset({1})

# --- canonical encoding -------------------------------------------------------
#: Largest integer magnitude (interoperable with IEEE doubles / JavaScript).
MAX_INT = 2**53 - 1
#: Deepest nesting of arrays/objects in any canonical document.
MAX_DEPTH = 16

# --- content identity ---------------------------------------------------------
CHUNK_SIZE = 262_144  # 256 KiB
#: Largest file whose file_id we accept (1 TiB) -> at most 4 Mi chunks.
MAX_FILE_SIZE = 1 << 40
MAX_CHUNKS = MAX_FILE_SIZE // CHUNK_SIZE
#: Leaf hashes per page of ``GET /peer/v1/content/{file_id}/leaves?page=`` (a power of two):
#: one page covers 128 MiB of file in a 16 KiB body (+ at most 13 proof hashes).
LEAF_PAGE = 512
#: Chunks one ``GET /peer/v1/content/{file_id}?first=&count=`` may ask for (16 MiB).
MAX_CHUNKS_PER_REQUEST = 64

# --- track records ------------------------------------------------------------
MAX_TEXT = 1024  # characters in one text field (title, album, ...)
MAX_KEY = 256  # characters in a track_key
MAX_LIST = 64  # items in a list field (artists, genres)
MAX_SHORT = 64  # characters in a short code field (format, codec, key)
MAX_EXTRA_BYTES = 4096  # canonical bytes of unknown (future) record fields
MAX_SONIC_DIMS = 256  # numbers in a track record's optional sonic vector (float32)
MAX_SONIC_CHARS = 10 + 4 * ((4 * MAX_SONIC_DIMS + 2) // 3)  # "<version ≤ 9 digits>:" + base64 of the float32s
MAX_LYRICS_BYTES = 65536  # UTF-8 bytes of the lyrics text a record's `lyrics` content id names (fetched apart)
MAX_BIOGRAPHY_BYTES = 8192  # UTF-8 bytes of an artist biography in an `artist_info` document
MAX_ARTIST_INFO_BYTES = 12288  # canonical bytes of an `artist_info` document (biography, name, source, attribution)
MAX_RECORD_BYTES = 3072  # canonical bytes of one whole track record (the tag mapper truncates to fit)

# --- catalogue logs and snapshots ----------------------------------------------
MAX_ENTRIES_PER_MESSAGE = 256
MAX_SNAPSHOT_PAGE = 256  # records per snapshot page (256 x 3 KiB < 1 MiB)
MAX_SNAPSHOT_PAGES = 8192  # -> at most 2 Mi tracks per catalogue
MAX_SEQ = MAX_INT

# --- membership and invites ----------------------------------------------------
MAX_ADDRESSES = 8
MAX_ADDRESS = 256  # characters in one address ("https://host:port")
MAX_MEMBERSHIP_RECORDS = 65_536
MAX_INVITE_USES = 100
MAX_INVITE_TTL_MS = 30 * 24 * 3600 * 1000  # 30 days
DEFAULT_INVITE_TTL_MS = 24 * 3600 * 1000  # 1 day

# --- messages -------------------------------------------------------------------
MAX_MESSAGE_BYTES = 1 << 20  # 1 MiB, canonical bytes of one message
MAX_HEADS_PER_MESSAGE = 4096
MAX_IDS_PER_MESSAGE = 4096
MAX_WANTS_PER_MESSAGE = 256
MAX_PIGGYBACK = 8  # SWIM updates piggybacked on one message

# --- gossip and failure detection -------------------------------------------------
DEFAULT_ROUND_MS = 1000  # one gossip round and one SWIM protocol period
DEFAULT_FANOUT = 2  # peers contacted per gossip round
DEFAULT_PROBE_TIMEOUT_MS = 300  # direct probe: wait this long for an ack
DEFAULT_INDIRECT_PROBES = 3  # k peers asked to probe on our behalf
DEFAULT_SUSPICION_MS = 5000  # suspect -> dead after this long without refutation
DEFAULT_RECONNECT_EVERY = 5  # on average, ping one dead peer every this many rounds
#: A piggybacked update is re-sent this many times x ceil(log2(N+1)).
PIGGYBACK_MULTIPLIER = 3

# --- peer request authentication ---------------------------------------------------
MAX_CLOCK_SKEW_MS = 60_000  # requests dated further than this from now are refused
REPLAY_CACHE_SIZE = 65_536  # nonces remembered (bounded)
NONCE_BYTES = 16
