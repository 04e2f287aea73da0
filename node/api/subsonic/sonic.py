"""Sonic similarity (OpenSubsonic ``sonicSimilarity``): getSonicSimilarTracks, findSonicPath.

Both answer a top-level ``sonicMatch`` array of ``{"entry": Child, "similarity": s}``
(s in 0..1, 1 = the same sound); see :mod:`...analysis.similarity` for how.
A song that exists but is not analysed yet is error 70 with a message saying so.
"""

from __future__ import annotations

from ...analysis import similarity
from ...store import browse
from .. import params
from . import shapes
from .core import Call, method
from .envelope import NOT_FOUND, SubsonicError, not_found

MAX_SIMILAR = 500
MAX_PATH = 200


async def _song(call: Call, name: str) -> str:
    ident = params.ident(call.require(name), name)
    assert ident is not None
    if not await call.store.read(browse.tracks_by_ids, [ident]):
        raise not_found(f"song {ident!r}")
    return ident


async def _matches(call: Call, matches: list[similarity.Match]) -> dict:
    tracks = await call.store.read(browse.tracks_by_ids, [m.track_id for m in matches])
    score = {m.track_id: m.similarity for m in matches}
    x = await shapes.decorate(call, tracks=tracks)
    return {"sonicMatch": [{"entry": shapes.child(t, x), "similarity": score[t["id"]]} for t in tracks]}


def _not_analysed(track_id: str) -> SubsonicError:
    return SubsonicError(NOT_FOUND, f"song {track_id!r} has no sonic analysis yet (the analysis workers have not reached it)")


@method("getSonicSimilarTracks")
async def get_sonic_similar_tracks(call: Call) -> dict:
    ident = await _song(call, "id")
    count = call.int("count", 10, 0, MAX_SIMILAR)
    try:
        found = await similarity.similar_tracks(call.store, ident, count)
    except similarity.NotAnalysed as exc:
        raise _not_analysed(exc.args[0]) from None
    return await _matches(call, found)


@method("findSonicPath")
async def find_sonic_path(call: Call) -> dict:
    start, end = await _song(call, "startSongId"), await _song(call, "endSongId")
    count = call.int("count", 25, 1, MAX_PATH)
    try:
        path = await similarity.sonic_path(call.store, start, end, count)
    except similarity.NotAnalysed as exc:
        raise _not_analysed(exc.args[0]) from None
    return await _matches(call, path)
