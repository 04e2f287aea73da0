"""Native API for analysis: waveforms (peaks.js JSON), progress, and queueing (``/api/v1``).

A track's other results (BPM, key, loudness, ReplayGain, fingerprint
presence, versions) are part of ``GET /api/v1/tracks/{id}`` (``analysis``).
Progress is also pushed as ``analysis.progress`` / ``analysis.finished``
server-sent events on ``/api/v1/events``.
"""

from __future__ import annotations

import time

from quart import Blueprint, current_app, jsonify, request

from ..analysis.features.waveform import level_for
from ..analysis.runner import KIND, current_versions
from ..store import analysis as analysis_store
from ..store import browse, jobs
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
