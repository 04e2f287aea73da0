"""Which nodes hold a song, and which one serves it now (the ``songSources`` extension), pure.

The node that answers is always the one a client talks to; the bytes it sends
come from, in this order:

1. ``local``: its own file;
2. ``streaming``: the member a transfer of this file is reading from right now
   (the transfer layer reports the holder of each session it opens, see
   :class:`LiveSources`);
3. ``cache``: a complete verified copy in its chunk cache (a pinned album, a
   song played before);
4. ``preferred``: the reachable holder with the best selection score
   (:func:`.selection.score`); a new stream starts there or, to spread load,
   at another holder nearly as good (power of two choices);
5. ``none``: no holder is reachable now.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from .selection import HolderStats, score

MAX_LIVE = 256  # files remembered as being streamed now


@dataclass(frozen=True)
class Source:
    node: str
    name: str | None
    is_self: bool
    state: str  # self, alive, suspect, unreachable, unknown, gone (no longer a member)
    rtt_ms: float | None = None


@dataclass(frozen=True)
class Sources:
    sources: tuple[Source, ...]
    serving: str | None  # the node id the bytes come from now (this node's own id for local and cache)
    reason: str  # local, streaming, cache, preferred, none


class LiveSources:
    """The member each running transfer reads from, by file id (bounded; fed by transfer events)."""

    def __init__(self) -> None:
        self._by_file: OrderedDict[str, tuple[str, int]] = OrderedDict()

    def opened(self, file_id: str, node_id: str) -> None:
        count = self._by_file.pop(file_id, (node_id, 0))[1]
        self._by_file[file_id] = (node_id, count + 1)
        while len(self._by_file) > MAX_LIVE:
            self._by_file.popitem(last=False)

    def closed(self, file_id: str) -> None:
        entry = self._by_file.get(file_id)
        if entry is None:
            return
        if entry[1] <= 1:
            del self._by_file[file_id]
        else:
            self._by_file[file_id] = (entry[0], entry[1] - 1)

    def moved(self, file_id: str, node_id: str) -> None:
        """A session moved to another holder (failover, a hedge that won)."""
        entry = self._by_file.get(file_id)
        if entry is not None:
            self._by_file[file_id] = (node_id, entry[1])

    def serving(self, file_id: str) -> str | None:
        entry = self._by_file.get(file_id)
        return entry[0] if entry else None


def resolve(me: str, my_name: str, local: bool, holders: list[str], peers: dict[str, dict],
            members: set[str], stats: dict[str, HolderStats], live: str | None, cached: bool) -> Sources:
    """Every holder of one recording (this node first when it holds it) and where its bytes come from now.

    ``holders``: member node ids holding the same recording; ``peers``: the peer table's rows by node id
    (name, state, rtt_ms); ``members``: current members; ``stats``: the selection statistics kept so far.
    """
    out = [Source(me, my_name, True, "self")] if local else []
    for node in dict.fromkeys(holders):
        if node == me:
            continue
        row = peers.get(node, {})
        state = (row.get("state") or "unknown") if node in members else "gone"
        out.append(Source(node, row.get("name"), False, state, row.get("rtt_ms")))
    if local:
        return Sources(tuple(out), me, "local")
    reachable = [s for s in out if s.state not in ("unreachable", "gone")]
    if live is not None and any(s.node == live for s in out):
        return Sources(tuple(out), live, "streaming")
    if cached:
        return Sources((Source(me, my_name, True, "self"), *out), me, "cache")
    if not reachable:
        return Sources(tuple(out), None, "none")
    best = min(reachable, key=lambda s: (score(stats.get(s.node) or HolderStats(s.node)), s.node))
    return Sources(tuple(out), best.node, "preferred")
