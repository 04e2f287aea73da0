"""Play events in, counted plays and now playing out: the one entry point for every client.

Native clients send ``start``, ``progress``, ``pause``, ``resume``, ``seek``,
``skip`` and ``end`` for a listen (``play_id`` from ``start``, or the open
listen of that client and device). Subsonic clients call :func:`scrobble`.
The rules (what counts, what is a duplicate) are in :mod:`sonantica.node.store.plays`;
this module resolves the track, works out the listened time and books a
counted play into the aggregates, all in one write transaction, so a crash
never leaves a play counted but unbooked. Nothing here waits on the network:
forwarding to ListenBrainz/Last.fm is only queued (see :mod:`.forward`).
"""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from ..errors import InvalidInput, NotFound
from ..store import scope
from ..store import plays as ps
from ..store import tracks as tracks_store
from ..store.db import Database
from . import forward, timezone

EVENTS = ("start", "progress", "pause", "resume", "seek", "skip", "end")
FINAL = ("skip", "end")
WALL_SLACK_MS = 2_000  # position may run ahead of the wall clock by this much (buffering, rounding)
NOW_PLAYING_TTL_S = 15 * 60  # an entry not refreshed for this long is gone (paused tabs, dead clients)
SCROBBLE_WINDOW_S = 30.0  # a retried submission without a time lands within this of the first
REPORT_STATES = ("starting", "playing", "paused", "stopped")  # OpenSubsonic reportPlayback
# a client that reports playback and also scrobbles: its scrobble of a listen it reported (counted) within
# the track's length and this slack is the same listen, not a second one
REPORT_SCROBBLE_SLACK_S = 600.0
REPORT_LATE_S = 30 * 60  # reportPlayback: events this long after a listen's planned end no longer feed it


# -- track facts ---------------------------------------------------------------------
def track_facts(db: Database, track_id: str, meta: dict | None = None) -> dict:
    """What booking needs about a track: duration, album, artists, genres and names.

    Local tracks come from the library; a remote track (federation) is
    described by ``meta`` (title, artist(s), album, duration_ms, genres).
    A listener limited to some music folders cannot book a track outside them: not found.
    """
    if scope.limited() and db.conn.execute(
            f"SELECT 1 FROM lib_track WHERE id = ? AND {scope.sql()}", (track_id,)).fetchone() is None:
        raise NotFound(f"no track {track_id}")
    row = db.conn.execute(
        "SELECT t.duration, t.title, t.artist, t.album, t.album_id, t.artist_id, "
        "(SELECT group_concat(ta.artist_id || char(30) || ar.name, char(31)) FROM track_artist ta "
        " JOIN artist ar ON ar.id = ta.artist_id WHERE ta.track_id = t.id AND ta.role = 'artist'), "
        "(SELECT group_concat(g.name, char(31)) FROM track_genre tg JOIN genre g ON g.id = tg.genre_id "
        " WHERE tg.track_id = t.id) FROM track t WHERE t.id = ?", (track_id,)).fetchone()
    if row is None:
        if not meta:
            raise NotFound(f"no track {track_id}")
        return _remote_facts(track_id, meta)
    pairs = [p.split("\x1e", 1) for p in row[6].split("\x1f")] if row[6] else []
    names = {a: n for a, n in pairs}
    genres = row[7].split("\x1f") if row[7] else []
    return {"duration_ms": int(row[0] * 1000), "title": row[1], "artist": row[2], "album": row[3],
            "album_id": row[4], "artists": list(names) or [row[5]], "artist_names": names, "genres": genres}


def _remote_facts(track_id: str, meta: dict) -> dict:
    artists = meta.get("artists") or [meta.get("artist") or "Unknown artist"]
    album_artist = meta.get("album_artist") or artists[0]
    album = meta.get("album") or ""
    ids = [tracks_store.artist_id(a) for a in artists]
    return {"duration_ms": int(meta.get("duration_ms") or 0), "title": meta.get("title") or track_id,
            "artist": ", ".join(artists), "album": album,
            "album_id": meta.get("album_id") or tracks_store.album_key(album_artist, album, None),
            "artists": ids, "artist_names": dict(zip(ids, artists)), "genres": list(meta.get("genres") or [])}


# -- booking ---------------------------------------------------------------------------------
def _keys(track_id: str, facts: dict, local: datetime) -> list[tuple[str, str]]:
    keys = [("track", track_id), ("album", facts["album_id"])]
    keys += [("artist", a) for a in dict.fromkeys(facts["artists"]) if a]
    keys += [("genre", g) for g in dict.fromkeys(facts["genres"])]
    keys += [("hour", f"{local.hour:02d}"), ("weekday", str(local.weekday())), ("total", "")]
    return keys


def _buckets(local: datetime) -> list[tuple[str, int]]:
    return [("d", local.year * 10000 + local.month * 100 + local.day), ("m", local.year * 100 + local.month),
            ("y", local.year), ("a", 0)]


def book_play(db: Database, play: dict, facts: dict, tz, plays: int, ms: int) -> None:
    """Add one play (or only listening time, ``plays=0``) to the user's aggregates."""
    local = datetime.fromtimestamp(play["started_at"], tz)
    ps.book(db, play["user_id"], _keys(play["track_id"], facts, local), _buckets(local), plays, ms)
    if plays:
        items = [("track", play["track_id"]), ("album", facts["album_id"])]
        items += [("artist", a) for a in dict.fromkeys(facts["artists"]) if a]
        ps.note_listen(db, play["user_id"], items, play["started_at"], plays, 0)
        names = [("track", play["track_id"], facts["title"], facts["artist"]),
                 ("album", facts["album_id"], facts["album"], facts["artist"])]
        names += [("artist", a, facts["artist_names"].get(a, facts["artist"]), None) for a in facts["artists"] if a]
        ps.name_items(db, names)


def _count(db, play: dict, facts: dict, at: float) -> None:
    tz = timezone.of_user(db, play["user_id"])
    book_play(db, play, facts, tz, 1, play["played_ms"])
    play.update(counted=1, counted_at=at, ms_booked=play["played_ms"])
    forward.enqueue(db, play)


def _close(db, play: dict, at: float, skipped: bool, completed: bool) -> None:
    facts = None
    if play["counted"] and play["played_ms"] > play["ms_booked"]:
        facts = track_facts(db, play["track_id"], _meta_of(play))
        book_play(db, play, facts, timezone.of_user(db, play["user_id"]), 0, play["played_ms"] - play["ms_booked"])
        play["ms_booked"] = play["played_ms"]
    skipped = skipped and not play["counted"]
    if skipped:
        ps.note_listen(db, play["user_id"], [("track", play["track_id"])], at, 0, 1)
    play.update(ended_at=at, state="ended", skipped=int(skipped), completed=int(completed))
    ps.clear_now_playing(db, play["user_id"], play["client"], play["device"], play["track_id"])


def _meta_of(play: dict) -> dict:
    if play.get("meta"):
        return json.loads(play["meta"])
    return {"title": play["title"], "artist": play["artist"], "album": play["album"],
            "duration_ms": play["duration_ms"]}


def _remote_meta(track_id: str, facts: dict, meta: dict | None) -> str | None:
    """What a remote track's later events (and rebuilds) need, since the library cannot tell."""
    if not meta:
        return None
    names = facts["artist_names"]
    return json.dumps({"title": facts["title"], "artists": [names.get(a, a) for a in facts["artists"]],
                       "album": facts["album"], "album_id": facts["album_id"], "duration_ms": facts["duration_ms"],
                       "genres": facts["genres"]}, ensure_ascii=False)


def _save(db, play: dict) -> None:
    ps.update_play(db, play["id"], **{k: v for k, v in play.items() if k not in ("id", "user_id", "track_id")})


# -- events ----------------------------------------------------------------------------------------
def apply_event(db: Database, user_id: str, event: str, *, track_id: str | None = None,
                position_ms: int = 0, client: str = "", device: str = "", at: float | None = None,
                play_id: int | None = None, source_node: str | None = None, meta: dict | None = None,
                from_ms: int | None = None, rate: float = 1.0, via: str = "native") -> dict:
    """Apply one native play event; returns the listen as it stands (``play_id``, ``counted``…).

    ``rate`` is the playback speed the client reports (OpenSubsonic ``playbackRate``): at 1.5× the
    position may advance 1.5 s per second of wall clock.
    """
    if event not in EVENTS:
        raise InvalidInput(f"event must be one of {', '.join(EVENTS)}")
    at = time.time() if at is None else float(at)
    position_ms = max(0, int(position_ms or 0))
    client, device = (client or "unknown")[:100], (device or "")[:100]
    if event == "start":
        return _start(db, user_id, track_id, position_ms, client, device, at, source_node, meta, via, rate)
    play = ps.get_play(db, int(play_id)) if play_id is not None else ps.open_play(db, user_id, client, device)
    if play is None or play["user_id"] != user_id or (track_id and play["track_id"] != track_id):
        if track_id and play_id is None and event not in FINAL:
            return _start(db, user_id, track_id, position_ms, client, device, at, source_node, meta, via, rate)
        raise NotFound(f"no listen {play_id} in progress" if play_id is not None else "no listen in progress "
                       "on this client and device: send a start event first")
    if play["ended_at"] is not None:
        return _result(play, duplicate=True)
    client, device = play["client"], play["device"]  # a retried end/skip: counted once
    if event == "seek" and from_ms is not None:
        _advance(play, int(from_ms), at, rate)
    if event != "seek":
        _advance(play, position_ms, at, rate)
    play["position_ms"], play["updated_at"] = position_ms, max(at, play["updated_at"])
    if event == "pause":
        play["state"] = "paused"
    elif event in ("progress", "resume", "seek"):
        play["state"] = "playing" if event != "seek" or play["state"] != "paused" else "paused"
    if not play["counted"] and play["played_ms"] >= ps.threshold_ms(play["duration_ms"]):
        _count(db, play, track_facts(db, play["track_id"], _meta_of(play)), at)
    if event in FINAL:
        near_end = play["duration_ms"] and position_ms >= play["duration_ms"] - 3000
        _close(db, play, at, skipped=event == "skip", completed=event == "end" and bool(near_end))
    else:
        ps.set_now_playing(db, user_id, client, device, play["track_id"], play["source"], play["id"], play["state"],
                           position_ms, at, rate)
    _save(db, play)
    return _result(play)


def _advance(play: dict, position_ms: int, at: float, rate: float = 1.0) -> None:
    """Add the listened time between the last event and this one: position advanced, bounded by the clock
    (times the playback rate)."""
    if play["state"] == "playing":
        wall = max(0.0, (at - play["updated_at"]) * 1000) * rate + WALL_SLACK_MS
        advanced = max(0, min(position_ms - play["position_ms"], int(wall)))
        cap = play["duration_ms"] + WALL_SLACK_MS if play["duration_ms"] else None
        played = play["played_ms"] + advanced
        play["played_ms"] = min(played, cap) if cap else played
    play["position_ms"] = position_ms


def _start(db, user_id, track_id, position_ms, client, device, at, source_node, meta, via="native",
           rate=1.0) -> dict:
    if not track_id:
        raise InvalidInput("a start event needs track_id")
    facts = track_facts(db, track_id, meta if source_node or meta else None)
    previous = ps.open_play(db, user_id, client, device)
    if previous is not None:
        # another track started on this client: the previous listen is over (a skip unless it counted)
        _close(db, previous, at, skipped=True, completed=False)
        _save(db, previous)
    play = {"user_id": user_id, "track_id": track_id, "source": source_node, "client": client, "device": device,
            "started_at": at, "updated_at": at, "ended_at": None, "position_ms": position_ms, "played_ms": 0,
            "duration_ms": facts["duration_ms"], "state": "playing", "counted": 0, "counted_at": None,
            "ms_booked": 0, "skipped": 0, "completed": 0, "via": via, "title": facts["title"],
            "artist": facts["artist"], "album": facts["album"], "meta": _remote_meta(track_id, facts, meta)}
    play["id"] = ps.insert_play(db, play)
    ps.note_listen(db, user_id, [("track", track_id)], at, 0, 0)  # started: no longer a discovery
    ps.set_now_playing(db, user_id, client, device, track_id, source_node, play["id"], "playing", position_ms, at,
                       rate)
    return _result(play)


def _result(play: dict, duplicate: bool = False) -> dict:
    return {"play_id": play["id"], "track_id": play["track_id"], "state": play["state"],
            "counted": bool(play["counted"]), "played_ms": play["played_ms"], "position_ms": play["position_ms"],
            "threshold_ms": ps.threshold_ms(play["duration_ms"]), "skipped": bool(play["skipped"]),
            "duplicate": duplicate}


def apply_scrobble(db: Database, user_id: str, track_id: str, submission: bool, client: str,
                   at: float | None = None, source_node: str | None = None, meta: dict | None = None,
                   now: float | None = None) -> dict:
    """Subsonic ``scrobble``: ``submission=False`` is now playing; ``True`` is one counted play, once."""
    now = time.time() if now is None else now
    client = (client or "unknown")[:100]
    facts = track_facts(db, track_id, meta if source_node or meta else None)
    if not submission:
        ps.set_now_playing(db, user_id, client, "", track_id, source_node, None, "playing", 0, now)
        return {"track_id": track_id, "counted": False, "duplicate": False, "now_playing": True}
    explicit = at is not None
    at = now if at is None else float(at)
    window = 0.999 if explicit else min(SCROBBLE_WINDOW_S, max(1.0, facts["duration_ms"] / 2000))
    if ps.scrobbled(db, user_id, track_id, at, window) or ps.reported(
            db, user_id, client, track_id, at - facts["duration_ms"] / 1000 - REPORT_SCROBBLE_SLACK_S,
            max(at, now) + REPORT_SCROBBLE_SLACK_S):
        return {"track_id": track_id, "counted": False, "duplicate": True, "now_playing": False}
    played = min(facts["duration_ms"], 240_000) if facts["duration_ms"] else 240_000
    play = {"user_id": user_id, "track_id": track_id, "source": source_node, "client": client, "device": "",
            "started_at": at, "updated_at": now, "ended_at": now, "position_ms": facts["duration_ms"],
            "played_ms": facts["duration_ms"] or played, "duration_ms": facts["duration_ms"], "state": "ended",
            "counted": 0, "counted_at": None, "ms_booked": 0, "skipped": 0, "completed": 1, "via": "scrobble",
            "title": facts["title"], "artist": facts["artist"], "album": facts["album"],
            "meta": _remote_meta(track_id, facts, meta)}
    play["id"] = ps.insert_play(db, play)
    _count(db, play, facts, now)
    _save(db, play)
    ps.clear_now_playing(db, user_id, client, "", track_id)
    return {"track_id": track_id, "counted": True, "duplicate": False, "now_playing": False, "play_id": play["id"]}


def apply_report(db: Database, user_id: str, track_id: str, state: str, position_ms: int, *, rate: float = 1.0,
                 ignore_scrobble: bool = False, client: str = "", at: float | None = None,
                 meta: dict | None = None) -> dict:
    """OpenSubsonic ``reportPlayback``: a client's playback timeline, as native events on its listen.

    ``starting`` opens a new listen (closing the client's previous one, even of the same song, as the
    extension asks) whose clock stands still until ``playing``: buffering is not listening. ``playing``
    runs the clock, ``paused`` stops it, ``stopped`` ends the listen. A report for another song than the
    open listen's starts one for it. The listened time is the position advanced between reports, bounded
    by the wall clock times the rate, so a seek forward does not count, and the listen counts once it
    reaches half the song or 4 minutes, exactly like the web app's events. ``ignore_scrobble`` only
    shows the client in now playing. One listen per user and client (Subsonic has no device id).
    """
    if state not in REPORT_STATES:
        raise InvalidInput(f"state must be one of {', '.join(REPORT_STATES)}")
    at = time.time() if at is None else float(at)
    client, device = (client or "unknown")[:100], ""
    position_ms = max(0, int(position_ms))
    if ignore_scrobble:
        if state == "stopped":
            ps.clear_now_playing(db, user_id, client, device, track_id)
        else:
            ps.set_now_playing(db, user_id, client, device, track_id, None, None, state, position_ms, at, rate)
        return {"track_id": track_id, "counted": False, "duplicate": False, "state": state}
    play = ps.open_play(db, user_id, client, device)
    if play is not None and _long_past_its_end(play, at, rate):
        # the extension: 30 minutes after the planned end, stop listening to that listen's events (the client
        # scrobbles what it played offline). It is closed with the time heard until then; this report is news.
        _close(db, play, play["updated_at"], skipped=False, completed=False)
        _save(db, play)
        play = None
    if play is None or play["track_id"] != track_id or state == "starting":
        if state == "stopped":  # nothing open for this song (ended already, or never started): nothing to end
            ps.clear_now_playing(db, user_id, client, device, track_id)
            return {"track_id": track_id, "counted": False, "duplicate": True, "state": state}
        started = apply_event(db, user_id, "start", track_id=track_id, position_ms=position_ms, client=client,
                              device=device, at=at, meta=meta, rate=rate, via="report")
        play_id = started["play_id"]
        result = apply_event(db, user_id, "pause", play_id=play_id, position_ms=position_ms, at=at, rate=rate)
    else:
        play_id = play["id"]
    event = {"starting": None, "playing": "progress", "paused": "pause", "stopped": "end"}[state]
    if event is not None:
        result = apply_event(db, user_id, event, play_id=play_id, position_ms=position_ms, at=at, rate=rate)
    else:
        ps.set_now_playing(db, user_id, client, device, track_id, None, play_id, "starting", position_ms, at, rate)
    return result | {"state": state}


def _long_past_its_end(play: dict, at: float, rate: float) -> bool:
    """A playing listen whose song would have ended over :data:`REPORT_LATE_S` before ``at``."""
    if play["state"] != "playing" or not play["duration_ms"]:
        return False
    left_s = max(0, play["duration_ms"] - play["position_ms"]) / 1000 / rate
    return at > play["updated_at"] + left_s + REPORT_LATE_S


def close_stale(db: Database, now: float | None = None, ttl: float = ps.OPEN_PLAY_TTL_S) -> int:
    """Close listens whose client went away without an end event (their time so far still counts)."""
    now = time.time() if now is None else now
    stale = ps.stale_open_plays(db, now - ttl)
    for play in stale:
        _close(db, play, play["updated_at"], skipped=False, completed=False)
        _save(db, play)
    return len(stale)


def apply_many(db: Database, user_id: str, events: list[dict]) -> list[dict]:
    """Several events in one transaction (offline queue of a client, bulk import, benchmarks).

    A failing event is reported in its slot and the batch goes on.
    """
    out = []
    for ev in events:
        try:
            out.append(apply_event(db, user_id, **_event_kwargs(ev)))
        except (InvalidInput, NotFound) as exc:
            out.append({"error": str(exc)})
    return out


def _event_kwargs(ev: dict) -> dict[str, Any]:
    allowed = ("event", "track_id", "position_ms", "client", "device", "at", "play_id", "source_node", "meta",
               "from_ms")
    return {k: ev[k] for k in allowed if k in ev and ev[k] is not None}


# -- async surface for the API, Subsonic and services ------------------------------------------
async def record(node, user_id: str, track_id: str | None, event: str, position_ms: int = 0, client: str = "",
                 at: float | None = None, source_node: str | None = None, *, device: str = "",
                 play_id: int | None = None, meta: dict | None = None, from_ms: int | None = None) -> dict:
    result = await node.store.write(
        lambda db: apply_event(db, user_id, event, track_id=track_id, position_ms=position_ms, client=client,
                               device=device, at=at, play_id=play_id, source_node=source_node, meta=meta,
                               from_ms=from_ms))
    _announce(node, user_id, result)
    return result


async def scrobble(node, user_id: str, track_id: str, submission: bool, client: str, at: float | None = None,
                   source_node: str | None = None, meta: dict | None = None) -> dict:
    result = await node.store.write(apply_scrobble, user_id, track_id, submission, client, at, source_node, meta)
    _announce(node, user_id, result)
    return result


async def report(node, user_id: str, track_id: str, state: str, position_ms: int, *, rate: float = 1.0,
                 ignore_scrobble: bool = False, client: str = "", meta: dict | None = None) -> dict:
    result = await node.store.write(
        lambda db: apply_report(db, user_id, track_id, state, position_ms, rate=rate, ignore_scrobble=ignore_scrobble,
                                client=client, meta=meta))
    _announce(node, user_id, result)
    return result


async def record_many(node, user_id: str, events: list[dict]) -> list[dict]:
    results = await node.store.write(apply_many, user_id, events)
    if any(r.get("counted") for r in results):
        _announce(node, user_id, {"counted": True})
    return results


def _announce(node, user_id: str, result: dict) -> None:
    bus = getattr(node, "bus", None)
    if bus is not None and result.get("counted") and not result.get("duplicate"):
        bus.publish("play.counted", {"user_id": user_id, "track_id": result.get("track_id")})


async def now_playing(node, ttl: float = NOW_PLAYING_TTL_S, now: float | None = None) -> list[dict]:
    """Every user's current listens (freshest first): user_id, user_name, client, track_id, minutes_ago…"""
    now = time.time() if now is None else now
    entries = await node.store.read(ps.now_playing, now - ttl)
    for e in entries:
        e["minutes_ago"] = int((now - e["since"]) // 60)
    return entries

