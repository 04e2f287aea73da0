"""Native API: play events, now playing, stats, history export/delete, recommendations, radio,
generated and smart playlists, forwarding settings (``/api/v1``).

Privacy: a user's history, stats and recommendations are theirs; only the
node's owner may ask for another user's (``?user=NAME``). Anyone else gets
403, and a listener never learns whether another user exists.
"""

from __future__ import annotations

import json
import secrets
import time
from datetime import date, datetime, time as dtime, timedelta

from quart import Blueprint, Response, current_app, jsonify, request

from ..analytics import forward, plays, playlists as gen, recommend as rec, stats as stats_mod, timezone
from ..errors import InvalidInput, NotFound
from ..store import browse
from ..store import plays as ps
from ..store import playlists as pl
from ..store import users as users_store
from .access import USER, access
from . import params
from .app import current_user, json_body, query_bool, query_int
from .errors import ApiError, bad_request, forbidden
from .library import annotate, track_json

bp = Blueprint("analytics", __name__, url_prefix="/api/v1")

HISTORY_MAX = 1000
RADIO_BATCH_MAX = 100


def _store():
    return current_app.node.store


async def _subject() -> dict:
    """The user whose data is asked for: the caller, or (owner only) ``?user=NAME``."""
    me = current_user()
    name = request.args.get("user")
    if not name or name == me["name"]:
        return me
    if me["role"] != "owner":
        raise forbidden("only the node's owner may read another user's listening")
    return await _store().read(users_store.require_by_name, name)


def _at(value) -> float | None:
    """Client times are milliseconds since the epoch (a JSON number); implausible times are refused."""
    if isinstance(value, str):
        raise bad_request("at must be milliseconds since the epoch (a number)")
    return params.timestamp_ms(value, "at")


def _event_body(body: dict) -> dict:
    if not isinstance(body.get("event"), str):
        raise bad_request("event is required")
    out = {"event": body["event"], "client": str(body.get("client") or "web")[:100],
           "device": str(body.get("device") or "")[:100], "at": _at(body.get("at"))}
    for key in ("track_id", "source_node"):
        if body.get(key) is not None:
            if not isinstance(body[key], str):
                raise bad_request(f"{key} must be a string")
            out[key] = body[key]
    for key in ("position_ms", "play_id", "from_ms"):
        if body.get(key) is not None:
            if not isinstance(body[key], int):
                raise bad_request(f"{key} must be an integer")
            out[key] = params.integer(body[key], key, 0, params.MAX_POSITION_MS if key != "play_id" else 2**62)
    if isinstance(body.get("meta"), dict):
        out["meta"] = body["meta"]
    return out


# -- play events ------------------------------------------------------------------------------------
@bp.post("/plays/events")
@access(USER)
async def play_event():
    """One event of a listen; ``start`` answers the ``play_id`` later events may carry."""
    ev = _event_body(await json_body("event"))
    result = await plays.record(current_app.node, current_user()["id"], ev.pop("track_id", None), ev.pop("event"),
                                ev.pop("position_ms", 0), ev.pop("client"), ev.pop("at"), ev.pop("source_node", None),
                                **ev)
    return jsonify(result), 201 if not result.get("duplicate") else 200


@bp.post("/plays/events/batch")
@access(USER)
async def play_events():
    """Events a client queued offline, in order: ``{"events": [...]}``; each slot answers or has ``error``."""
    body = await json_body("events")
    if not isinstance(body["events"], list) or len(body["events"]) > 1000:
        raise bad_request("events must be a list of at most 1000 events")
    events = [_event_body(e) if isinstance(e, dict) else {} for e in body["events"]]
    results = await plays.record_many(current_app.node, current_user()["id"], events)
    return jsonify({"results": results})


@bp.get("/plays/now")
@access(USER)
async def now_playing():
    """What is playing now: the caller's own clients (every user's, for the owner)."""
    me = current_user()
    entries = await plays.now_playing(current_app.node)
    if me["role"] != "owner":
        entries = [e for e in entries if e["user_id"] == me["id"]]
    tracks = {t["id"]: t for t in await _store().read(browse.tracks_by_ids, [e["track_id"] for e in entries])}
    for e in entries:
        t = tracks.get(e["track_id"])
        e["track"] = track_json(t) if t else None
    return jsonify({"items": entries})


# -- history ---------------------------------------------------------------------------------------------
def _range_args(tz) -> tuple[float | None, float | None]:
    def edge(name: str, plus: int) -> float | None:
        raw = request.args.get(name)
        if not raw:
            return None
        try:
            d = date.fromisoformat(raw)
        except ValueError:
            raise bad_request(f"{name} must be a date like 2024-05-31") from None
        try:
            return datetime.combine(d + timedelta(days=plus), dtime(), tz).timestamp()
        except OverflowError:  # year 1 or 9999: beyond any play, so no bound on that side
            return None

    return edge("from", 0), edge("to", 1)


@bp.get("/plays/history")
@access(USER)
async def history():
    user = await _subject()
    tz = await _store().read(timezone.of_user, user["id"])
    start, end = _range_args(tz)
    limit = query_int("limit", 100, 1, HISTORY_MAX)
    before = query_int("before", 0, 0, 2**62) or None
    counted = bool(query_bool("counted", False))
    rows = await _store().read(ps.history, user["id"], start or 0, end or 1e12, limit, before, counted)
    return jsonify({"items": [_public_play(p) for p in rows],
                    "next_before": rows[-1]["id"] if len(rows) == limit else None})


def _public_play(p: dict) -> dict:
    return {"id": p["id"], "track_id": p["track_id"], "title": p["title"], "artist": p["artist"],
            "album": p["album"], "source": p["source"] or "local", "client": p["client"], "device": p["device"],
            "started_at": p["started_at"], "ended_at": p["ended_at"], "played_ms": p["played_ms"],
            "duration_ms": p["duration_ms"], "counted": bool(p["counted"]), "skipped": bool(p["skipped"]),
            "completed": bool(p["completed"]), "via": p["via"]}


@bp.get("/plays/export")
@access(USER)
async def export_history():
    """Every listen of the user as one JSON document (a download)."""
    user = await _subject()
    rows = await _store().read(ps.history, user["id"], 0, 1e12, 10**9, None, False)
    doc = {"user": user["name"], "exported_at": time.time(), "format": "sonantica-plays-1",
           "plays": [_public_play(p) for p in reversed(rows)]}
    return Response(json.dumps(doc, ensure_ascii=False), mimetype="application/json",
                    headers={"Content-Disposition": f'attachment; filename="plays-{user["name"]}.json"'})


@bp.delete("/plays/history")
@access(USER)
async def delete_history():
    """Delete the user's listens (all, or ``from``/``to`` dates); stats are rebuilt from what is left."""
    user = await _subject()
    tz = await _store().read(timezone.of_user, user["id"])
    start, end = _range_args(tz)
    n = await _store().write(stats_mod.delete_history, user["id"], start, end)
    return jsonify({"deleted": n})


# -- stats --------------------------------------------------------------------------------------------------
@bp.get("/stats")
@access(USER)
async def stats():
    """``?period=today|yesterday|week|month|year|all`` or ``?start=…&end=…`` dates; ``limit`` per top list."""
    user = await _subject()
    args = request.args
    out = await _store().read(lambda db: stats_mod.stats(
        db, user["id"], args.get("period", "month"), start=args.get("start"), end=args.get("end"),
        limit=query_int("limit", stats_mod.TOP_DEFAULT, 1, stats_mod.TOP_MAX)))
    out["user"] = user["name"]
    return jsonify(out)


@bp.get("/me/analytics")
@access(USER)
async def get_settings():
    me = current_user()
    settings = await _store().read(ps.user_settings, me["id"])
    settings["tz"] = settings.get("tz") or None
    settings["effective_tz"] = timezone.name_of(timezone.zone(settings["tz"]))
    return jsonify(settings)


@bp.put("/me/analytics")
@access(USER)
async def put_settings():
    """``{"tz": "Europe/Madrid" | null, "share_aggregates": false}``; a new zone rebuilds the stats."""
    body = await json_body()
    me = current_user()
    current = await _store().read(ps.user_settings, me["id"])
    tz = body.get("tz", current.get("tz"))
    if tz is not None and not isinstance(tz, str):
        raise bad_request("tz must be an IANA zone name or null")
    share = params.boolean(body.get("share_aggregates"), "share_aggregates",
                           bool(current.get("share_aggregates", False)))
    await _store().write(stats_mod.set_timezone, me["id"], tz, share)
    return await get_settings()


# -- recommendations and radio ---------------------------------------------------------------------------
async def _tracks_for(picks: list[rec.Pick]) -> list[dict]:
    tracks = {t["id"]: t for t in await _store().read(browse.tracks_by_ids, [p.id for p in picks])}
    annotated = {t["id"]: t for t in await annotate(list(tracks.values()))}
    out = []
    for p in picks:
        t = annotated.get(p.id)
        if t is None and p.id not in tracks and scope.limited():
            continue  # never name a track outside the caller's folders
        entry = track_json(t) if t else {"id": p.id}
        entry.update(source=p.source, score=round(p.score, 4), reasons=p.reasons)
        out.append(entry)
    return out


@bp.get("/recommendations")
@access(USER)
async def recommendations():
    """The caller's next tracks with reasons; ``?new=1`` keeps to tracks never played."""
    user = await _subject()
    count = query_int("count", 20, 1, 200)
    new = bool(query_bool("new", False))
    picks = await _store().read(lambda db: rec.recommend(db, user["id"], count, exclude_played=new))
    return jsonify({"items": await _tracks_for(picks)})


@bp.get("/tracks/<track_id>/similar")
@access(USER)
async def similar_tracks(track_id: str):
    count = query_int("count", 20, 1, 200)
    await _store().read(browse.require_track, track_id)
    picks = await _store().read(lambda db: rec.similar_to(db, [track_id], count, user_id=current_user()["id"]))
    return jsonify({"items": await _tracks_for(picks)})


@bp.get("/artists/<artist_id>/similar")
@access(USER)
async def similar_artists(artist_id: str):
    count = query_int("count", 20, 1, 100)
    await _store().read(browse.get_artist, artist_id)  # an unknown artist is a 404, not an empty list
    rows = await _store().read(rec.similar_artists, artist_id, count)
    return jsonify({"items": [{"id": a, "name": n, "score": round(s, 4)} for a, n, s in rows]})


@bp.post("/radio")
@access(USER)
async def start_radio():
    """``{"track_id"|"album_id"|"artist_id": …, "count": 20}`` → a radio id and its first tracks."""
    body = await json_body()
    kinds = [k for k in ("track", "album", "artist") if isinstance(body.get(f"{k}_id"), str)]
    if len(kinds) != 1:
        raise bad_request("give exactly one of track_id, album_id, artist_id")
    kind = kinds[0]
    seeds = await _store().read(gen.radio_seeds, kind, body[f"{kind}_id"])
    radio = {"id": "rd-" + secrets.token_hex(8), "user_id": current_user()["id"], "kind": kind,
             "seed": body[f"{kind}_id"], "seeds": seeds[:50], "served": list(seeds[:1]) if kind == "track" else []}
    _radios()[radio["id"]] = radio
    return await _radio_batch(radio, _count(body.get("count", 20))), 201


def _count(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= RADIO_BATCH_MAX:
        raise bad_request(f"count must be an integer from 1 to {RADIO_BATCH_MAX}")
    return value


def _radios() -> dict:
    node = current_app.node
    if not hasattr(node, "analytics_radios"):
        node.analytics_radios = {}
    radios = node.analytics_radios
    while len(radios) > 1000:  # oldest first
        radios.pop(next(iter(radios)))
    return radios


@bp.get("/radio/<radio_id>")
@access(USER)
async def next_radio(radio_id: str):
    radio = _radios().get(radio_id)
    if radio is None or radio["user_id"] != current_user()["id"]:
        raise ApiError(404, "not_found", f"no radio {radio_id} (radios live until the node restarts)")
    return await _radio_batch(radio, query_int("count", 20, 1, RADIO_BATCH_MAX))


async def _radio_batch(radio: dict, count: int):
    picks = await _store().read(gen.radio_next, radio["user_id"], radio["seeds"], radio["served"], count)
    radio["served"] = (radio["served"] + [p.id for p in picks])[-gen.RADIO_MAX_SERVED:]
    return jsonify({"id": radio["id"], "kind": radio["kind"], "seed": radio["seed"],
                    "tracks": await _tracks_for(picks)})


# -- generated and smart playlists ---------------------------------------------------------------------------
@bp.get("/generated-playlists")
@access(USER)
async def generated_playlists():
    return jsonify({"items": await _store().read(gen.generated_of, current_user()["id"])})


@bp.post("/generated-playlists/refresh")
@access(USER)
async def refresh_generated():
    me = current_user()
    await _store().write(gen.refresh_user, me["id"])
    return jsonify({"items": await _store().read(gen.generated_of, me["id"])})


@bp.post("/smart-playlists")
@access(USER)
async def create_smart():
    """``{"name": …, "rules": {"all": [...], "sort": …, "limit": …}}`` (Navidrome .nsp rules)."""
    body = await json_body("name", "rules")
    pid = await _store().write(gen.create_smart, current_user()["id"], str(body["name"]), body["rules"],
                               str(body.get("comment", "")))
    return jsonify(await _smart(pid)), 201


@bp.post("/smart-playlists/preview")
@access(USER)
async def preview_smart():
    body = await json_body("rules")
    ids = await _store().read(gen.evaluate, current_user()["id"], body["rules"])
    tracks = await _store().read(browse.tracks_by_ids, ids)
    return jsonify({"track_ids": ids, "tracks": [track_json(t) for t in tracks]})


@bp.post("/smart-playlists/check")
@access(USER)
async def check_smart():
    """Whether the node accepts these rules, and what it says of each top-level rule alone.

    An editor checks as the user types: half-typed rules are the normal case there, so they are
    answered 200 with the messages, not refused with 400 (which browsers log as errors).
    """
    body = await json_body("rules")
    rules = body["rules"]
    try:
        gen.compile_rules(rules)
    except InvalidInput as exc:
        message = str(exc)
    else:
        return jsonify({"valid": True, "message": None, "rules": []})
    verdicts: list[str | None] = []
    if isinstance(rules, dict):
        for group in ("all", "any"):
            if isinstance(rules.get(group), list):
                for rule in rules[group][:200]:
                    try:
                        gen.compile_rules({"all": [rule]})
                        verdicts.append(None)
                    except InvalidInput as exc:
                        verdicts.append(str(exc))
                break
    return jsonify({"valid": False, "message": message, "rules": verdicts})


async def _smart(pid: str) -> dict:
    me = current_user()

    def live(db):
        p = pl.get(db, pid)
        if p["generated"] != "smart" or not pl.can_read(p, me):
            raise NotFound(f"no smart playlist {pid}")
        ids = gen.evaluate(db, p["owner_id"], p["rules"])
        return p, browse.tracks_by_ids(db, ids)

    p, tracks = await _store().read(live)
    p["tracks"] = [track_json(t) for t in await annotate(tracks)]
    p["song_count"] = len(tracks)
    return p


@bp.get("/smart-playlists/<playlist_id>")
@access(USER)
async def get_smart(playlist_id: str):
    """The playlist evaluated now (live), whatever its stored items say."""
    return jsonify(await _smart(playlist_id))


@bp.put("/smart-playlists/<playlist_id>")
@access(USER)
async def update_smart(playlist_id: str):
    body = await json_body()
    if "rules" not in body and "name" not in body:
        raise bad_request("send rules and/or name")
    await _store().write(gen.update_smart, current_user()["id"], playlist_id, body.get("rules"), body.get("name"))
    return jsonify(await _smart(playlist_id))


# -- forwarding ------------------------------------------------------------------------------------------------
@bp.get("/me/forwarding")
@access(USER)
async def forwarding():
    out = await _store().read(forward.status, current_user()["id"])
    return jsonify({"node_allows": bool(current_app.node.config.listenbrainz_forwarding), "services": out})


@bp.put("/me/forwarding/<service>")
@access(USER)
async def set_forwarding(service: str):
    """``{"enabled": true, "token": …}`` (ListenBrainz user token; Last.fm session key plus api_key/api_secret)."""
    body = await json_body()
    if body.get("enabled") and not current_app.node.config.listenbrainz_forwarding:
        raise forbidden("the node's owner has not allowed forwarding (listenbrainz_forwarding = true in config.toml)")
    try:
        result = await _store().write(forward.save_account, current_user()["id"], service, body)
    except InvalidInput as exc:
        raise bad_request(str(exc)) from exc
    bus = getattr(current_app.node, "bus", None)
    if bus is not None:
        bus.publish("analytics.forward", {"user_id": current_user()["id"]})
    return jsonify(result)
