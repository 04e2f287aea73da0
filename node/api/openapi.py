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
PAGE = [("limit", "integer", "page size (1–500)"), ("cursor", "string", "next_cursor of the previous page (without it, the first page, which also carries total)"),
        ("order", "string", "asc or desc")]
QUERY = {
    "library.tracks": PAGE + [("sort", "string", "title, artist, album, year, added, duration, track"),
                              ("album", "string", "album id"), ("artist", "string", "artist id"),
                              ("genre", "string", "genre name"), ("year_from", "integer", ""), ("year_to", "integer", ""),
                              ("folder", "integer", "music folder id"), ("lossless", "boolean", ""),
                              ("format", "string", "container: flac, mp3, m4a…")],
    "library.albums": PAGE + [("sort", "string", "name, artist, year, added"), ("artist", "string", "artist id"),
                              ("genre", "string", ""), ("year_from", "integer", ""), ("year_to", "integer", ""),
                              ("folder", "integer", "")],
    "library.artists": PAGE + [("album_artists", "boolean", "only artists with albums")],
    "library.search": [("q", "string", "words; each is a prefix"), ("limit", "integer", "")],
    "library.cover": [("size", "integer", "thumbnail edge in pixels; omitted: the original")],
    "streams.stream": [("format", "string", "raw, opus, aac, m4a, mp3 (default: the user's setting)"),
                       ("bitrate", "integer", "kbit/s"), ("offset", "number", "start at this many seconds")],
    "streams.download": [("format", "string", "raw (default), opus, aac, m4a, mp3"), ("bitrate", "integer", "kbit/s")],
    "playlists.import_playlist": [("name", "string", "playlist name"), ("base", "string", "folder the paths are relative to")],
    "playlists.export_playlist": [("format", "string", "m3u8 or xspf")],
}
SECURITY = {
    acc.PUBLIC: [],
    acc.USER: [{"session": []}, {"bearer": []}, {"apiKey": []}],
    acc.ADMIN: [{"session": []}, {"bearer": []}, {"apiKey": []}],
    acc.OWNER: [{"session": []}, {"bearer": []}, {"apiKey": []}],
}


def build(app) -> dict:
    paths: dict[str, dict] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v1"):
            continue
        view = app.view_functions[rule.endpoint]
        level = acc.level_of(view) or "undeclared"
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        doc = (view.__doc__ or rule.endpoint.split(".")[-1].replace("_", " ")).strip().splitlines()[0]
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                  for n in re.findall(r"{(\w+)}", path)]
        params += [{"name": n, "in": "query", "required": False, "schema": {"type": t}, **({"description": d} if d else {})}
                   for n, t, d in QUERY.get(rule.endpoint, [])]
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            op = {
                "operationId": rule.endpoint.replace(".", "_") + ("" if method == "GET" else f"_{method.lower()}"),
                "summary": doc,
                "tags": [rule.endpoint.split(".")[0]],
                "x-access": level,
                "security": SECURITY.get(level, []),
                "responses": {
                    "200": {"description": "success"},
                    "default": {"description": "error", "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            }
            if params:
                op["parameters"] = params
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
