"""AcoustID: a recording's MusicBrainz id from its acoustic fingerprint, for tracks nothing else matched.

Only with a key (``metadata_acoustid_key``, free for applications at acoustid.org). A track whose
tags or album match gave no recording MBID, and whose fingerprint the analysis has computed
(Chromaprint-compatible, ``node/analysis/features/fingerprint.py``), is looked up with
``GET /v2/lookup?client=KEY&meta=recordings&duration=S&fingerprint=FP``; the best result scoring
at least ``MIN_SCORE`` gives its first recording. A track not analysed yet is looked at again
after the retry delay rather than in a month. What is sent: the key, the fingerprint and the
duration of the audio, nothing else.
"""

from __future__ import annotations

import re

from ..store import analysis as analysis_store
from .base import Context
from .http import Endpoint
from .musicbrainz import is_mbid

MIN_SCORE = 0.8
MAX_FINGERPRINT = 16_000  # characters of compressed fingerprint (about 10 minutes of audio)
KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def endpoint(config) -> Endpoint:
    return Endpoint("acoustid", config.metadata_acoustid_url, spacing=0.34)  # 3 requests/s, as AcoustID asks


class Recordings:
    name = "acoustid"
    kind = "track"

    @staticmethod
    def is_enabled(config) -> bool:
        return bool(KEY.match(config.metadata_acoustid_key or ""))

    async def lookup(self, ctx: Context, track: dict) -> dict:
        if is_mbid(track.get("mb_recording_id")) or is_mbid(track.get("recording_mbid")):
            return {}
        fp = await ctx.http.store.read(analysis_store.blob, track["id"], "fingerprint")
        if not fp or not isinstance(fp.get("compressed"), str):
            return {"_later": True}  # the analysis has not reached this track yet
        if len(fp["compressed"]) > MAX_FINGERPRINT:
            fp["compressed"] = fp["compressed"][:MAX_FINGERPRINT]
        found = await ctx.json(endpoint(ctx.config), "/v2/lookup", {
            "client": ctx.config.metadata_acoustid_key, "meta": "recordings", "format": "json",
            "duration": int(round(track.get("duration") or fp.get("duration") or 0)),
            "fingerprint": fp["compressed"]})
        return {"recording_mbid": rec} if (rec := best_recording(found or {})) else {}


def best_recording(answer: dict) -> str | None:
    if answer.get("status") != "ok" or not isinstance(answer.get("results"), list):
        return None
    results = [r for r in answer["results"] if isinstance(r, dict) and isinstance(r.get("score"), (int, float))]
    for result in sorted(results, key=lambda r: -r["score"]):
        if result["score"] < MIN_SCORE:
            break
        for rec in result.get("recordings") or []:
            if isinstance(rec, dict) and is_mbid(rec.get("id")):
                return rec["id"]
    return None
