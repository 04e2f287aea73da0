"""The native API's OpenAPI document, built from the app's route map.

Every ``/api/v1`` route appears with its methods, path parameters, access
level and the first line of its view's docstring, plus the query parameters
listed in ``QUERY``. ``specs/openapi.json`` is this document written out
(`python -m sonantica.node.api.openapi > specs/openapi.json`); a test fails
when the two differ, so the spec cannot drift from the code.
"""

from __future__ import annotations

import json
import re

from . import access as acc

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["status", "code", "message"], "properties": {
        "status": {"type": "integer"}, "code": {"type": "string"}, "message": {"type": "string"}}}},
}


def _int(lo: int, hi: int) -> dict:
    return {"type": "integer", "minimum": lo, "maximum": hi}


def _id(*prefixes: str) -> dict:
    return {"type": "string", "pattern": f"^({'|'.join(prefixes)})-[^/]{{1,200}}$"}


def _obj(required: list[str] | None = None, **props: dict) -> dict:
    out: dict = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


STR = {"type": "string"}
BOOL = {"type": "boolean"}
DATE = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "maxLength": 0}]}  # empty: not given
TRACK_IDS = {"type": "array", "items": _id("tr"), "maxItems": 20_000}
POSITION_MS = _int(0, 7 * 86_400_000)
# path parameters: what a route takes there (a made-up id of the right kind is a 404, of the wrong kind a 404 too)
PATH = {
    "track_id": _id("tr"), "album_id": _id("al"), "artist_id": _id("ar"), "playlist_id": _id("pl"),
    "share_id": _id("sh"), "station_id": _id("ir"),
    "item_id": _id("tr", "al", "ar"), "ident": _id("tr", "al", "ar", "em", "fi", "pl"), "radio_id": _id("rd"),
    "media_id": {"type": "string", "pattern": "^[a-z]{2}-[^/]{1,200}$"},
    "position": _int(0, 20_000), "service": {"type": "string", "enum": ["listenbrainz", "lastfm"]},
    "channel_id": _id("pc"), "episode_id": _id("pe"),
}
PAGE = [("limit", _int(1, 500), "page size"),
        ("cursor", STR, "next_cursor of the previous page (without it, the first page, which also carries total)"),
        ("order", {"type": "string", "enum": ["asc", "desc"]}, "")]
YEARS = [("year_from", _int(0, 9999), ""), ("year_to", _int(0, 9999), ""), ("folder", _int(0, 10**9), "music folder id")]
WHO = [("user", STR, "another user's name (the owner only)")]
RANGE = [("from", DATE, "first day (in the user's time zone)"), ("to", DATE, "last day")]
QUERY = {
    "library.tracks": PAGE + [("sort", {"type": "string", "enum": ["title", "artist", "album", "year", "added",
                                                                    "duration", "track"]}, ""),
                              ("album", STR, "album id"), ("artist", STR, "artist id"), ("genre", STR, "genre name"),
                              *YEARS, ("lossless", BOOL, ""), ("format", STR, "container: flac, mp3, m4a…")],
    "library.albums": PAGE + [("sort", {"type": "string", "enum": ["name", "artist", "year", "added"]}, ""),
                              ("artist", STR, "artist id"), ("genre", STR, ""), *YEARS],
    "library.artists": PAGE + [("album_artists", BOOL, "only artists with albums")],
    "library.search": [("q", {"type": "string", "maxLength": 200}, "words; each is a prefix"),
                       ("limit", _int(1, 200), "")],
    "analysis.sonic_similar": [("count", _int(0, 500), "how many (default 10)")],
    "analysis.sonic_path": [("to", _id("tr"), "the track the path ends at (required)"),
                            ("count", _int(2, 200), "songs in the path, both ends included (default 25)")],
    "shares.list_shares": [("all", BOOL, "every user's shares (admins)")],
    "bookmarks.list_bookmarks": [("media_id", {"type": "string", "maxLength": 200}, "only the bookmark on this item "
                                  "(an empty list when there is none)")],
    "library.cover": [("size", _int(16, 4096), "thumbnail edge in pixels; omitted: the original")],
    "streams.stream": [("format", {"type": "string", "enum": ["raw", "opus", "aac", "m4a", "mp3"]},
                        "default: the user's setting"),
                       ("bitrate", _int(0, 10_000), "kbit/s"),
                       ("offset", {"type": "number", "minimum": 0, "exclusiveMaximum": 86400},
                        "start at this many seconds")],
    "streams.download": [("format", {"type": "string", "enum": ["raw", "opus", "aac", "m4a", "mp3"]}, "default raw"),
                         ("bitrate", _int(0, 10_000), "kbit/s")],
    "playlists.import_playlist": [("name", {"type": "string", "maxLength": 200}, "playlist name (empty: its own title)"),
                                  ("base", STR, "folder the paths are relative to")],
    "playlists.export_playlist": [("format", {"type": "string", "enum": ["m3u8", "m3u", "xspf"]}, "")],
    "analysis.sonic_similar": [("count", _int(0, 500), "")],
    "analysis.sonic_path": [("to", _id("tr"), "the track the path ends at"), ("count", _int(2, 200), "")],
    "analysis.waveform": [("spp", _int(0, 2**31), "samples per pixel; 0 or omitted: the finest level")],
    "analytics.history": WHO + RANGE + [("limit", _int(1, 1000), ""), ("before", _int(0, 2**62), "play id"),
                                        ("counted", BOOL, "only counted plays")],
    "analytics.delete_history": WHO + RANGE,
    "analytics.export_history": WHO,
    "analytics.stats": WHO + [("period", {"type": "string", "enum": ["today", "yesterday", "week", "month", "year",
                                                                      "all"]}, ""),
                              ("start", DATE, "first day of a range (give end too)"),
                              ("end", DATE, "last day of a range (give start too, not before it)"),
                              ("limit", _int(1, 100), "per top list")],
    "analytics.recommendations": WHO + [("count", _int(1, 200), ""), ("new", BOOL, "only tracks never played")],
    "analytics.similar_tracks": [("count", _int(1, 200), "")],
    "analytics.similar_artists": [("count", _int(1, 100), "")],
    "analytics.next_radio": [("count", _int(1, 100), "")],
    "podcasts.newest": [("count", _int(0, 500), "how many (default 20)")],
    "podcasts.channel_cover": [("size", _int(16, 4096), "thumbnail edge in pixels; omitted: the original")],
    "podcasts.stream_episode": [("format", {"type": "string", "enum": ["raw", "opus", "aac", "m4a", "mp3"]},
                                 "default raw"), ("bitrate", _int(0, 10_000), "kbit/s"),
                                ("offset", {"type": "number", "minimum": 0, "exclusiveMaximum": 86400},
                                 "start at this many seconds")],
}
REQUIRED_QUERY = {("analysis.sonic_path", "to")}
EVENT = _obj(["event"], event={"type": "string", "enum": ["start", "progress", "pause", "resume", "seek", "skip",
                                                           "end"]},
             track_id=STR, play_id=_int(0, 2**62), position_ms=POSITION_MS, from_ms=POSITION_MS,
             at={"type": "integer", "minimum": 946_684_800_000,
                 "description": "ms since the epoch; at most 5 minutes ahead of the node's clock"},
             client={"type": "string"}, device={"type": "string"}, source_node={"type": "string"},
             meta={"type": "object"})
RULES = {"type": "object", "description": "Navidrome .nsp rules: all/any of conditions (field names and operators "
                                           "as in docs/analytics.md), sort, order, limit",
         "properties": {"all": {"type": "array", "items": {"type": "object"}},
                        "any": {"type": "array", "items": {"type": "object"}},
                        "sort": STR, "order": {"type": "string", "enum": ["asc", "desc"]}, "limit": _int(1, 20_000)},
         "anyOf": [{"required": ["all"]}, {"required": ["any"]}]}
NAME = {"type": "string", "minLength": 1, "maxLength": 200}
PASSWORD = {"type": "string", "minLength": 8, "maxLength": 1024}
USERNAME = {"type": "string", "pattern": r"^[\w.@+-]{1,64}$"}
STATION_URL = {"type": "string", "pattern": "^https?://", "maxLength": 2000,
               "description": "http(s), with a host and no user name or password"}
#: music folder ids a listener sees (store/scope.py); null: every folder, present and future
FOLDERS = {"type": ["array", "null"], "items": _int(0, 2**53), "maxItems": 10_000}
SEEDS = {"track_id": "tr", "album_id": "al", "artist_id": "ar"}  # a radio starts from exactly one
# JSON request bodies, by endpoint
BODY = {
    "users.login": _obj(["username", "password"], username=STR, password=STR),
    "users.setup": _obj(["username", "password"], username=USERNAME, password=PASSWORD, setup_token=STR),
    "users.change_my_password": _obj(["old_password", "new_password"], old_password=STR, new_password=PASSWORD),
    "users.new_api_key": _obj(["name"], name={"type": "string", "minLength": 1, "maxLength": 100}),
    "users.create_user": _obj(["username", "password"], username=USERNAME, password=PASSWORD,
                              role={"type": "string", "enum": ["listener", "admin", "owner"]}, folders=FOLDERS),
    "users.update_user": _obj(None, password=PASSWORD, role={"type": "string", "enum": ["listener", "admin", "owner"]},
                              folders=FOLDERS),
    "users.set_user_defaults": _obj(["folders"], folders=FOLDERS),
    "subsonic.subsonic_native.set_app_password:PUT": _obj(["password"], password={"type": "string", "minLength": 8,
                                                                                   "maxLength": 128}),
    "playlists.create_playlist": _obj(["name"], name=NAME, track_ids=TRACK_IDS, comment=STR, public=BOOL),
    "playlists.update_playlist": _obj(None, name=NAME, track_ids=TRACK_IDS, comment=STR, public=BOOL),
    "playlists.add_tracks": _obj(["track_ids"], track_ids=TRACK_IDS),
    "playlists.move_track": _obj(["from", "to"], **{"from": _int(0, 20_000), "to": _int(0, 20_000)}),
    "playlists.save_queue": _obj(["track_ids"], track_ids=TRACK_IDS, current={"type": ["string", "null"]},
                                 position_ms=POSITION_MS, client=STR),
    "library.rate": _obj(["rating"], rating=_int(0, 5)),
    "shares.create_share": _obj(["ids"], ids={"type": "array", "items": _id("tr", "al", "pl"), "minItems": 1,
                                              "maxItems": 500},
                                description={"type": "string", "maxLength": 1000},
                                expires_at={"type": ["integer", "null"], "minimum": 1, "maximum": 253_402_300_799_000,
                                            "description": "ms since the epoch, in the future; null: never"},
                                downloadable=BOOL),
    "shares.update_share": _obj(None, description={"type": "string", "maxLength": 1000},
                                expires_at={"type": ["integer", "null"], "minimum": 1, "maximum": 253_402_300_799_000},
                                downloadable=BOOL),
    "radio.create_station": _obj(["name", "stream_url"], name=NAME, stream_url=STATION_URL,
                                 homepage_url={"type": "string", "maxLength": 2000}),
    "radio.update_station": _obj(None, name=NAME, stream_url=STATION_URL,
                                 homepage_url={"type": "string", "maxLength": 2000}),
    "bookmarks.put_bookmark": _obj(["position_ms"], position_ms=POSITION_MS, comment={"type": "string", "maxLength": 1000}),
    "library.start_scan": _obj(None, full=BOOL),
    "analysis.analysis_enqueue": _obj(None, force=BOOL),
    "metadata.refresh": _obj(None, id=_id("tr", "al", "ar")),
    "federation_api.create_invite": _obj(None, uses=_int(1, 100),
                                         ttl={"type": "string", "pattern": r"^[0-9]{1,4}[smhd]$",
                                              "description": "e.g. 10m, 24h, 7d (at most 30 days)"},
                                         admin=BOOL),
    "federation_api.join": _obj(["code"], code=STR),
    "analytics.play_event": EVENT,
    "analytics.play_events": _obj(["events"], events={"type": "array", "items": EVENT, "maxItems": 1000}),
    "analytics.put_settings": _obj(None, tz={"type": ["string", "null"], "description": "an IANA zone name"},
                                   share_aggregates=BOOL),
    "analytics.start_radio": {"oneOf": [_obj([k], **{o: {"type": "null"} for o in SEEDS if o != k}, **{k: _id(p)},
                                             count=_int(1, 100)) for k, p in SEEDS.items()]},
    "analytics.create_smart": _obj(["name", "rules"], name=NAME, rules=RULES, comment=STR),
    "analytics.preview_smart": _obj(["rules"], rules=RULES),
    # any object: saying what is wrong with rules is this endpoint's answer, not a 400
    "analytics.check_smart": _obj(["rules"], rules={"type": "object", "description": RULES["description"]}),
    "analytics.update_smart": {**_obj(None, name=NAME, rules=RULES),
                               "anyOf": [{"required": ["rules"]}, {"required": ["name"]}]},
    "analytics.set_forwarding": _obj(None, enabled=BOOL, token=STR, url=STR, api_key=STR, api_secret=STR),
    "podcasts.subscribe": _obj(["url"], url={"type": "string", "maxLength": 2000, "description": "an http(s) feed"},
                               keep_count=_int(0, 10_000), keep_days=_int(0, 36_500), download_count=_int(0, 100)),
    "podcasts.update_channel": _obj(None, keep_count=_int(0, 10_000), keep_days=_int(0, 36_500),
                                    download_count=_int(0, 100)),
    "podcasts.mark_played": _obj(["played"], played=BOOL),
}
RAW_BODY = {  # bodies that are not JSON
    "radio.put_station_cover": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                                "image/png": {"schema": {"type": "string", "format": "binary"}},
                                "image/webp": {"schema": {"type": "string", "format": "binary"}}},
    "playlists.import_playlist": {"audio/x-mpegurl": {"schema": STR}, "application/xspf+xml": {"schema": STR},
                                  "text/plain": {"schema": STR}},
}
JSON = {"application/json": {"schema": {"type": "object"}}}
AUDIO = {"audio/*": {"schema": {"type": "string", "format": "binary"}},
         "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
# success answers, by endpoint (default: 200 with a JSON object)
RESPONSES = {
    "library.star": {"204": None}, "library.unstar": {"204": None}, "library.rate": {"204": None},
    "playlists.remove_track": {"204": None}, "playlists.delete_playlist": {"204": None},
    "playlists.save_queue": {"204": None}, "users.revoke_api_key": {"204": None}, "users.delete_user": {"204": None},
    "federation_api.pin": {"204": None}, "bookmarks.delete_bookmark": {"204": None},
    "shares.delete_share": {"204": None}, "radio.delete_station": {"204": None},
    "radio.delete_station_cover": {"204": None}, "radio.create_station": {"201": JSON},
    "radio.get_station_cover": {"200": {"image/*": {"schema": {"type": "string", "format": "binary"}}}},
    "radio.station_stream": {"200": AUDIO}, "shares.create_share": {"201": JSON}, "federation_api.unpin": {"204": None},
    "subsonic.subsonic_native.delete_app_password": {"204": None},
    "users.setup": {"201": JSON}, "users.new_api_key": {"201": JSON}, "users.create_user": {"201": JSON},
    "playlists.create_playlist": {"201": JSON}, "playlists.import_playlist": {"201": JSON},
    "analytics.create_smart": {"201": JSON}, "analytics.start_radio": {"201": JSON},
    "federation_api.create_invite": {"201": JSON}, "federation_api.join": {"201": JSON},
    "subsonic.subsonic_native.set_app_password": {"201": JSON},
    "analytics.play_event": {"201": JSON, "200": JSON},
    "library.start_scan": {"202": JSON}, "analysis.analysis_enqueue": {"202": JSON}, "metadata.refresh": {"202": JSON},
    "library.cover": {"200": {"image/*": {"schema": {"type": "string", "format": "binary"}}}},
    "streams.stream": {"200": AUDIO, "206": AUDIO, "304": None},
    "streams.download": {"200": AUDIO, "206": AUDIO, "304": None},
    "events.events": {"200": {"text/event-stream": {"schema": STR}}},
    "playlists.export_playlist": {"200": {"audio/x-mpegurl": {"schema": STR}, "application/xspf+xml": {"schema": STR}}},
    "podcasts.subscribe": {"201": JSON}, "podcasts.delete_channel": {"204": None}, "podcasts.refresh_all": {"204": None},
    "podcasts.delete_episode": {"204": None}, "podcasts.download_episode": {"202": JSON},
    "podcasts.channel_cover": {"200": {"image/*": {"schema": {"type": "string", "format": "binary"}}}},
    "podcasts.stream_episode": {"200": AUDIO, "206": AUDIO, "304": None},
}
SECURITY = {
    acc.PUBLIC: [],
    acc.USER: [{"session": []}, {"bearer": []}, {"apiKey": []}],
    acc.ADMIN: [{"session": []}, {"bearer": []}, {"apiKey": []}],
    acc.OWNER: [{"session": []}, {"bearer": []}, {"apiKey": []}],
}


def _responses(endpoint: str) -> dict:
    out = {}
    for status, content in RESPONSES.get(endpoint, {"200": JSON}).items():
        out[status] = {"description": "success" if status < "300" else "not modified"}
        if content:
            out[status]["content"] = content
    out["default"] = {"description": "error", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}}
    return out


def body_schema(endpoint: str, method: str) -> dict | None:
    """The JSON body schema of an operation (the node checks bodies against it: see params.check_json)."""
    return BODY.get(f"{endpoint}:{method}", BODY.get(endpoint))


def _request_body(endpoint: str, method: str) -> dict | None:
    if endpoint in RAW_BODY:
        return {"required": True, "content": RAW_BODY[endpoint]}
    schema = body_schema(endpoint, method)
    if schema is None:
        return None
    return {"required": bool(schema.get("required") or "oneOf" in schema or "anyOf" in schema),
            "content": {"application/json": {"schema": schema}}}


def build(app) -> dict:
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1"):
            continue
        view = app.view_functions[rule.endpoint]
        level = acc.level_of(view) or "undeclared"
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        doc = (view.__doc__ or rule.endpoint.split(".")[-1].replace("_", " ")).strip().splitlines()[0]
        params = [{"name": n, "in": "path", "required": True, "schema": PATH.get(n, {"type": "string"})}
                  for n in re.findall(r"{(\w+)}", path)]
        params += [{"name": n, "in": "query", "required": (rule.endpoint, n) in REQUIRED_QUERY, "schema": t,
                    **({"description": d} if d else {})} for n, t, d in QUERY.get(rule.endpoint, [])]
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            op = {
                "operationId": rule.endpoint.replace(".", "_") + ("" if method == "GET" else f"_{method.lower()}"),
                "summary": doc,
                "tags": [rule.endpoint.split(".")[0]],
                "x-access": level,
                "security": SECURITY.get(level, []),
                "responses": _responses(rule.endpoint),
            }
            if params:
                op["parameters"] = params
            body = _request_body(rule.endpoint, method)
            if body:
                op["requestBody"] = body
            paths.setdefault(path, {})[method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "Sonántica native API", "version": "1",
                 "description": "The JSON API of a Sonántica node. Errors always have the Error shape."},
        "paths": paths,
        "components": {
            "schemas": {"Error": ERROR_SCHEMA},
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "sonantica_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"},
            },
        },
    }


def render(app) -> str:
    return json.dumps(build(app), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    from types import SimpleNamespace

    from ..config import Config
    from .app import create_app

    print(render(create_app(SimpleNamespace(config=Config()))), end="")
