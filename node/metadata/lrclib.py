"""LRCLIB: synced and plain lyrics for tracks with none of their own.

``GET /api/get?artist_name=&track_name=&album_name=&duration=`` answers one record (404 when
it has none): ``syncedLyrics`` (LRC text), ``plainLyrics``, ``instrumental``. A track with
embedded lyrics or an ``.lrc`` file beside it is never asked about: local lyrics win.
"""

from __future__ import annotations

import trio

from ..library import lyrics as lyrics_mod
from .base import Context
from .http import Endpoint

MAX_LYRICS = lyrics_mod.MAX_LRC


def endpoint(config) -> Endpoint:
    return Endpoint("lrclib", config.metadata_lrclib_url, spacing=0.2)


class Lyrics:
    name = "lrclib"
    kind = "track"

    async def lookup(self, ctx: Context, track: dict) -> dict:
        if track.get("lyrics") or not track.get("title") or not track.get("artist"):
            return {}
        if (track.get("lyrics_synced") or track.get("lyrics_plain")) and not ctx.fresh:
            return {}
        if track.get("root") and await trio.to_thread.run_sync(lyrics_mod.has_sidecar, track["root"], track["path"]):
            return {}
        params = {"artist_name": track["artist"], "track_name": track["title"],
                  "album_name": track.get("album") or "", "duration": int(round(track.get("duration") or 0))}
        found = await ctx.json(endpoint(ctx.config), "/api/get", params)
        if not found:
            return {}
        synced, plain = _text(found.get("syncedLyrics")), _text(found.get("plainLyrics"))
        if synced and not lyrics_mod.parse_lrc(synced)["synced"]:
            synced = None  # not LRC after all
        if not synced and not plain:
            return {}
        ident = found.get("id") if isinstance(found.get("id"), int) else None
        return {"lyrics_synced": synced, "lyrics_plain": plain,
                "lyrics_source": f"LRCLIB #{ident}" if ident is not None else "LRCLIB"}


def _text(value) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value.encode()) > MAX_LYRICS:
        return None
    return value.replace("\r\n", "\n").replace("\x00", "")
