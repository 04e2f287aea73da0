"""Native API for analysis: waveforms (peaks.js JSON), progress, and queueing (``/api/v1``).

A track's other results (BPM, key, loudness, ReplayGain, fingerprint
presence, versions) are part of ``GET /api/v1/tracks/{id}`` (``analysis``).
Sonic similarity: ``/tracks/{id}/sonic/similar`` and ``/tracks/{id}/sonic/path``
(the same engine as the Subsonic ``sonicSimilarity`` extension).
Progress is also pushed as ``analysis.progress`` / ``analysis.finished``
server-sent events on ``/api/v1/events``.
"""

from __future__ import annotations

import time

from quart import Blueprint, current_app, jsonify, request

from ..analysis import similarity
from ..analysis.features.waveform import level_for
from ..analysis.runner import KIND, current_versions
from ..store import analysis as analysis_store
from ..store import browse, jobs, scope
from . import params
from .access import ADMIN, USER, access
from . import params
from .app import current_user, json_body, query_int
from .errors import ApiError, bad_request

bp = Blueprint("analysis", __name__, url_prefix="/api/v1")


@bp.get("/tracks/<track_id>/waveform")
@access(USER)
async def waveform(track_id: str):
    """Waveform peaks of a track in the audiowaveform/peaks.js JSON format."""
    store = current_app.node.store
    await store.read(browse.require_track, track_id)
    wanted = query_int("spp", 0, 0, 2**31)  # samples per pixel; 0: the finest level
    data = await store.read(analysis_store.blob, track_id, "waveform")
    if data is None:
        raise ApiError(404, "not_found", f"track {track_id} has no waveform yet (analysis pending)")
    resp = jsonify(level_for(data, wanted))
    resp.headers["Cache-Control"] = "private, max-age=3600"
    return resp


async def progress(node) -> dict:
    """Job counts, tracks analysed, what the workers are doing, recent failures."""
    versions = current_versions()

    def read(db):
        return {**jobs.counts(db, KIND), **analysis_store.progress(db, versions),
                "failures": jobs.failures(db, KIND, 20)}

    out = await node.store.read(read)
    runner = getattr(node, "analysis", None)
    out["workers"] = runner.workers if runner else 0
    out["active"] = list(runner.active.values()) if runner else []
    out["versions"] = versions
    return out


@bp.get("/analysis")
@access(USER)
async def analysis_progress():
    """Analysis progress: jobs per state, tracks analysed, active work, failures (their reasons, which
    may quote a file's server path, for admins only: a listener gets the counts)."""
    out = await progress(current_app.node)
    if current_user()["role"] not in ("owner", "admin"):
        out["failures"] = []
    if scope.limited():  # jobs and work in progress may concern folders this listener does not see
        out.update({state: 0 for state in jobs.STATES}, total=0, active=[])
    return jsonify(out)


@bp.post("/analysis")
@access(ADMIN)
async def analysis_enqueue():
    """Queue every track with stale results, or every track (``{"force": true}``)."""
    body = await json_body(optional=True)
    node = current_app.node
    force = params.boolean(body.get("force"), "force")
    runner = getattr(node, "analysis", None)
    if runner is not None:
        queued = await runner.sweep(force=force)
    else:  # no analysis service: queue only; `sonantica analyze` will run it
        def enqueue(db):
            targets = analysis_store.all_tracks(db) if force else analysis_store.stale_tracks(db, current_versions())
            return jobs.enqueue(db, KIND, targets, time.time(), {"force": True} if force else None, force=force)

        queued = await node.store.write(enqueue)
    return jsonify({"queued": queued, "force": force}), 202


# -- sonic similarity -------------------------------------------------------------------
async def _sonic_json(matches) -> list[dict]:
    from .library import annotate, track_json

    store = current_app.node.store
    tracks = await store.read(browse.tracks_by_ids, [m.track_id for m in matches])
    score = {m.track_id: m.similarity for m in matches}
    return [{"track": track_json(t), "similarity": score[t["id"]]} for t in await annotate(tracks)]


def _not_analysed(track_id: str) -> ApiError:
    return ApiError(404, "not_analysed", f"track {track_id} has no sonic analysis yet (analysis pending)")


@bp.get("/tracks/<track_id>/sonic/similar")
@access(USER)
async def sonic_similar(track_id: str):
    """The ``count`` (default 10, at most 500) tracks that sound most like this one, nearest first."""
    count = query_int("count", 10, 0, 500)
    store = current_app.node.store
    await store.read(browse.require_track, track_id)
    try:
        found = await similarity.similar_tracks(store, track_id, count)
    except similarity.NotAnalysed:
        raise _not_analysed(track_id) from None
    return jsonify({"items": await _sonic_json(found)})


@bp.get("/tracks/<track_id>/sonic/path")
@access(USER)
async def sonic_path(track_id: str):
    """A smooth path of at most ``count`` (default 25, 2..200) tracks from this one to ``to``, both included."""
    target = params.ident(request.args.get("to"), "to")
    if target is None:
        raise bad_request("to: the id of the track the path ends at is required")
    count = query_int("count", 25, 2, 200)
    store = current_app.node.store
    for ident in (track_id, target):
        await store.read(browse.require_track, ident)
    try:
        path = await similarity.sonic_path(store, track_id, target, count)
    except similarity.NotAnalysed as exc:
        raise _not_analysed(exc.args[0]) from None
    return jsonify({"items": await _sonic_json(path)})
