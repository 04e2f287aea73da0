"""Annotation: scrobble (now playing / a counted play), star, unstar, setRating.

Scrobbles go to :mod:`sonantica.node.analytics.plays`: ``submission=false``
marks now playing, ``true`` counts a play (once, however often a client
retries); a ``stream`` request alone never counts.
"""

from __future__ import annotations


from ...store import annotations, browse
from .. import params
from .core import Call, method
from .envelope import GENERIC, SubsonicError, missing, not_found


@method("scrobble")
async def scrobble(call: Call) -> dict:
    ids = call.all("id")
    if not ids:
        raise missing("id")
    episodes = [i for i in ids if i.startswith("pe-")]
    ids = [i for i in ids if not i.startswith("pe-")]
    await _scrobble_episodes(call, episodes)
    known = {t["id"] for t in await call.store.read(browse.tracks_by_ids, ids)}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise not_found(f"song {unknown[0]!r}")
    from ...analytics import plays

    times = call.times("time")  # every value parsed before anything is written
    submission = call.bool("submission", True)
    for pos, ident in enumerate(ids):
        at = times[pos] if pos < len(times) else None
        await plays.scrobble(call.node, call.uid, ident, submission, call.client(), at=at)
    return {}


async def _scrobble_episodes(call: Call, ids: list[str]) -> None:
    """A podcast episode scrobbled (``submission``, the default) is marked played for this user; it is
    not a play of music (stats and recommendations are about music)."""
    import time

    from ...errors import NotFound
    from ...store import podcasts

    try:
        for ident in ids:
            await call.store.read(podcasts.episode, ident)
    except NotFound:
        raise not_found(f"podcast episode {ident!r}") from None
    if call.bool("submission", True):
        for ident in ids:
            await call.store.write(podcasts.set_played, call.uid, ident, True, time.time())


def _targets(call: Call) -> list[str]:
    """The ids to (un)star: ``id`` a song, album or artist, ``albumId`` an album, ``artistId`` an artist.
    The store refuses ids that name nothing (error 70, nothing written)."""
    ids = []
    for param, prefixes in (("id", ("tr-", "al-", "ar-")), ("albumId", ("al-",)), ("artistId", ("ar-",))):
        for ident in call.all(param):
            if ident[:3] not in prefixes:
                raise not_found(f"{param} {ident!r}")
            ids.append(ident)
    if not ids:
        raise missing("id")
    return ids


async def _star(call: Call, on: bool) -> dict:
    ids = _targets(call)

    def run(db):
        for ident in ids:
            annotations.star(db, call.uid, ident, on)

    await call.store.write(run)
    return {}


@method("star")
async def star(call: Call) -> dict:
    return await _star(call, True)


@method("unstar")
async def unstar(call: Call) -> dict:
    return await _star(call, False)


@method("setRating")
async def set_rating(call: Call) -> dict:
    ident = call.require("id")
    rating = call.int("rating", None, -1, 99)
    if rating is None:
        raise missing("rating")
    if not 0 <= rating <= 5:
        raise SubsonicError(GENERIC, "rating must be 0 (none) to 5")
    if ident[:3] not in ("tr-", "al-", "ar-"):
        raise not_found(f"item {ident!r}")
    await call.store.write(annotations.rate, call.uid, ident, rating)
    return {}


@method("reportPlayback")
async def report_playback(call: Call) -> dict:
    """``playbackReport``: the client's timeline (starting, playing, paused, stopped) feeds the same listens,
    counting rule and now playing as the web app's events (see :func:`..analytics.plays.apply_report`).
    Every parameter is parsed before anything is written."""
    from ...analytics import plays

    media_id = params.ident(call.require("mediaId"), "mediaId")
    media_type = params.choice(call.require("mediaType"), "mediaType", ("song", "podcast"))
    position = params.integer(call.require("positionMs"), "positionMs", 0, params.MAX_POSITION_MS)
    state = params.choice(call.require("state"), "state", plays.REPORT_STATES)
    rate = params.number(call.get("playbackRate"), "playbackRate", 0.1, 10.0, 1.0)
    ignore = call.bool("ignoreScrobble")
    if media_type == "podcast":
        return await _report_episode(call, media_id, state, position)
    found = await call.store.read(browse.tracks_by_ids, [media_id])
    if not found:
        raise not_found(f"song {media_id!r}")
    track = found[0]
    meta = None
    if track.get("source"):  # a member's recording: the library's own tables do not describe it
        meta = {"title": track["title"], "artist": track["artist"], "artists": track.get("artists") or None,
                "album": track["album"], "album_id": track["album_id"],
                "duration_ms": int((track.get("duration") or 0) * 1000), "genres": track.get("genres") or []}
    await plays.report(call.node, call.uid, media_id, state, position, rate=rate, ignore_scrobble=ignore,
                       client=call.client(), meta=meta)
    return {}


PLAYED_FRACTION = 0.9  # an episode heard to 90 % (the credits, the ads after) counts as played


async def _report_episode(call: Call, ident: str, state: str, position_ms: int) -> dict:
    """``reportPlayback`` of a podcast episode: reaching 90 % of it marks it played for this user."""
    import time

    from ...errors import NotFound
    from ...store import podcasts

    try:
        ep = await call.store.read(podcasts.episode, ident)
    except NotFound:
        raise not_found(f"podcast episode {ident!r}") from None
    if ep.get("duration") and position_ms >= ep["duration"] * 1000 * PLAYED_FRACTION:
        await call.store.write(podcasts.set_played, call.uid, ident, True, time.time())
    return {}
