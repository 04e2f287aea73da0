"""``songSources`` (a proposed OpenSubsonic extension, specified in specs/subsonic.md): getSongSources.

Per song: every node of the federation that holds the recording and the one its
bytes come from now (see :mod:`...federation.sources` for the rule). ``id`` may
repeat (a client asks for its whole queue at once).
"""

from __future__ import annotations

from ...federation.sources import Sources, resolve
from ...store import browse
from ...store import peers as peers_store
from .core import Call, method
from .envelope import GENERIC, SubsonicError, missing, not_found

MAX_IDS = 100


def _gather(db, ids: list[str]) -> tuple[list[dict], dict[str, list[str]], dict[str, dict]]:
    tracks = browse.tracks_by_ids(db, ids)
    holders = {t["id"]: [h["node"] for h in peers_store.holders(db, t["id"]) if h["file_id"] == t["file_id"]
                         or not t.get("source")] for t in tracks}
    peers = {p["node"]: p for p in peers_store.peers(db)}
    return tracks, holders, peers


def _members(federation) -> set[str]:
    membership = getattr(federation, "membership", None)
    if membership is None:
        return set()
    return {str(m) for m in membership.members}


def _shape(track_id: str, found: Sources) -> dict:
    out: dict = {"id": track_id, "reason": found.reason}
    if found.serving is not None:
        out["serving"] = found.serving
    out["source"] = [{k: v for k, v in {
        "id": s.node, "name": s.name, "self": s.is_self, "serving": s.node == found.serving,
        "state": s.state, "rttMs": None if s.rtt_ms is None else int(round(s.rtt_ms))}.items() if v is not None}
        for s in found.sources]
    return out


@method("getSongSources")
async def get_song_sources(call: Call) -> dict:
    ids = call.all("id")
    if not ids:
        raise missing("id")
    if len(ids) > MAX_IDS:
        raise SubsonicError(GENERIC, f"at most {MAX_IDS} ids at once")
    tracks, holders, peers = await call.store.read(_gather, ids)
    known = {t["id"] for t in tracks}
    for ident in ids:
        if ident not in known:
            raise not_found(f"song {ident!r}")
    federation = call.node.federation
    if federation is not None:
        me = str(federation.me)
    else:  # not serving the federation (e.g. a test harness without it): the node's id all the same
        import trio

        from ...federation.runtime import load_identity

        me = str((await trio.to_thread.run_sync(load_identity, call.node.data)).node_id)
    name = call.node.config.name
    members = _members(federation)
    pool = getattr(federation, "holders", None)
    cache = getattr(federation, "chunk_cache", None)
    out = []
    for t in tracks:
        local = not t.get("source")
        live = pool.live.serving(t["file_id"]) if pool is not None and t.get("file_id") else None
        cached = False
        if not local and cache is not None and t.get("file_id"):
            from sonantica.protocol.chunks import chunk_count_for_size

            cached = cache.has_file(t["file_id"], chunk_count_for_size(int(t["size"])))
        found = resolve(me, name, local, holders[t["id"]], peers, members, dict(pool.stats) if pool else {},
                        live, cached)
        out.append(_shape(t["id"], found))
    return {"songSources": out}
