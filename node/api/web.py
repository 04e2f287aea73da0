"""The web app (``web/``), the API document and a health check.

The web client is zero-build: ES modules, CSS, a service worker, a manifest.
Assets are served under ``/static/<version>/…`` where ``version`` is a hash of
the whole ``web/`` tree, so that relative ``import``s inside modules inherit
the version and every asset can be cached for a year (``immutable``).
``index.html`` and ``/sw.js`` are templates (``__V__`` → version,
``__ASSETS__`` → the asset list for the service worker's precache) served with
``no-cache``; a new version changes ``sw.js``, which updates the worker.
Client routes (history routing) fall back to ``index.html``.

Without ``web/index.html``, ``/`` is a plain page that says what is true: the
node's name, its library and where the API documentation is.
"""

from __future__ import annotations

import hashlib
import html
import json
import mimetypes
import os
from pathlib import Path

from quart import Blueprint, Response, current_app, jsonify

from ..store import tracks as tracks_store
from ..store import users as users_store
from .access import PUBLIC, access

bp = Blueprint("web", __name__)

# The web app ships beside node/ in the source tree; an installed copy elsewhere is named by
# $SONANTICA_WEB (the Docker image sets it).
WEB_DIR = Path(os.environ.get("SONANTICA_WEB") or Path(__file__).resolve().parents[2] / "web")


@bp.get("/api/v1/openapi.json")
@access(PUBLIC)
async def openapi():
    """This document."""
    from .openapi import build

    return jsonify(build(current_app))


@bp.get("/api/v1/health")
@access(PUBLIC)
async def health():
    """Liveness: 200 while the node serves."""
    return jsonify({"ok": True, "name": current_app.node.config.name})


# the history-routing sections of the client: these paths answer with index.html
CLIENT_ROUTES = ("home", "albums", "album", "artists", "artist", "genres", "genre", "tracks", "search",
                 "playlists", "playlist", "queue", "now", "downloads", "settings", "status", "federation",
                 "stats", "login", "setup", "starred")
TEMPLATES = ("index.html", "sw.js", "manifest.webmanifest")
MIME = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
        ".png": "image/png", ".webmanifest": "application/manifest+json", ".json": "application/json",
        ".html": "text/html", ".woff2": "font/woff2", ".ico": "image/x-icon", ".txt": "text/plain"}
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"

_state: dict = {"key": None, "version": "", "assets": []}


def _scan_web() -> tuple[str, list[str]]:
    """The version (hash of every file's path and bytes) and the asset paths, recomputed when web/ changes."""
    files = sorted(p for p in WEB_DIR.rglob("*") if p.is_file() and not p.name.startswith("."))
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    if key != _state["key"]:
        digest = hashlib.sha256()
        for p in files:
            digest.update(str(p.relative_to(WEB_DIR)).encode() + b"\0" + p.read_bytes())
        assets = [p.relative_to(WEB_DIR).as_posix() for p in files]
        _state.update(key=key, version=digest.hexdigest()[:12],
                      assets=[a for a in assets if a not in TEMPLATES])
    return _state["version"], _state["assets"]


def _template(name: str, mimetype: str) -> Response:
    version, assets = _scan_web()
    text = (WEB_DIR / name).read_text("utf-8")
    text = text.replace("__V__", version).replace("__ASSETS__", json.dumps(assets))
    return Response(text, mimetype=mimetype, headers={"Cache-Control": NO_CACHE})


def _app_present() -> bool:
    return (WEB_DIR / "index.html").is_file()


@bp.get("/static/<version>/<path:path>")
@access(PUBLIC)
async def static_asset(version: str, path: str):
    """A file of the web app; immutable when ``version`` is the current one."""
    from .errors import ApiError

    target = (WEB_DIR / path).resolve()
    if not _app_present() or WEB_DIR.resolve() not in target.parents or not target.is_file() \
            or target.name in TEMPLATES or any(part.startswith(".") for part in target.relative_to(WEB_DIR.resolve()).parts):
        raise ApiError(404, "not_found", f"no web asset {path}")
    current, _ = _scan_web()
    mime = MIME.get(target.suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    resp = Response(target.read_bytes(), mimetype=mime)
    resp.headers["Cache-Control"] = IMMUTABLE if version == current else NO_CACHE
    return resp


@bp.get("/sw.js")
@access(PUBLIC)
async def service_worker():
    """The web app's service worker (scope ``/``)."""
    from .errors import ApiError

    if not _app_present():
        raise ApiError(404, "not_found", "the web app is not installed on this node")
    resp = _template("sw.js", "text/javascript")
    resp.headers["Service-Worker-Allowed"] = "/"
    return resp


@bp.get("/manifest.webmanifest")
@access(PUBLIC)
async def manifest():
    """The web app manifest (at a stable address, for installation)."""
    from .errors import ApiError

    if not _app_present():
        raise ApiError(404, "not_found", "the web app is not installed on this node")
    resp = _template("manifest.webmanifest", "application/manifest+json")
    return resp


@bp.get("/favicon.ico")
@access(PUBLIC)
async def favicon():
    from .errors import ApiError

    icon = WEB_DIR / "icons" / "icon.svg"
    if not icon.is_file():
        raise ApiError(404, "not_found", "no icon")
    return Response(icon.read_bytes(), mimetype="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"})


@bp.get("/<any(" + ", ".join(CLIENT_ROUTES) + "):section>")
@bp.get("/<any(" + ", ".join(CLIENT_ROUTES) + "):section>/<path:rest>")
@access(PUBLIC)
async def client_route(section: str, rest: str = ""):
    """A page of the web app (history routing): the app shell."""
    from .errors import ApiError

    if not _app_present():
        raise ApiError(404, "not_found", "the web app is not installed on this node")
    return _template("index.html", "text/html")


@bp.get("/")
@access(PUBLIC)
async def root():
    if _app_present():
        return _template("index.html", "text/html")
    node = current_app.node
    counts = await node.store.read(tracks_store.counts)
    no_users = await node.store.read(users_store.count) == 0
    name = html.escape(node.config.name)
    scanning = "a scan is running" if node.scanner.running else "idle"
    setup = ("<p><strong>No users yet.</strong> Create the owner with <code>sonantica user add NAME</code>, "
             "or <code>POST /api/v1/setup</code> from this machine.</p>") if no_users else ""
    page = f"""<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{name}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}</style>
<h1>{name}</h1>
<p>{counts['tracks']} tracks, {counts['albums']} albums, {counts['artists']} artists — library {scanning}.</p>
{setup}
<ul><li><a href="/api/v1/openapi.json">Native API (OpenAPI)</a></li>
<li>Subsonic apps: use this address with your user name and password.</li></ul>
</html>"""
    return Response(page, mimetype="text/html")
