"""The web app (``web/``), the API document and a health check.

The web client is zero-build: ES modules, CSS, a service worker, a manifest.
Assets are served under ``/static/<version>/…`` where ``version`` is a hash of
the whole ``web/`` tree, so that relative ``import``s inside modules inherit
the version and every asset can be cached for a year (``immutable``).
``index.html`` and ``/sw.js`` are templates (``__V__`` → version,
``__ASSETS__`` → the asset list for the service worker's precache, ``__LANGUAGES__`` → the codes of
the message catalogues ``web/i18n/*.json``) served with
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
from pathlib import Path, PurePosixPath

import trio
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
                 "stats", "login", "setup", "starred", "shares", "radio", "podcasts", "podcast")
TEMPLATES = ("index.html", "sw.js", "manifest.webmanifest")
MIME = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml",
        ".png": "image/png", ".webmanifest": "application/manifest+json", ".json": "application/json",
        ".html": "text/html", ".woff2": "font/woff2", ".ico": "image/x-icon", ".txt": "text/plain"}
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"

_state: dict = {"key": None, "version": "", "assets": []}


def _rel(path: Path, root: Path) -> PurePosixPath:
    return PurePosixPath(path.relative_to(root).as_posix())


def _hidden(rel: PurePosixPath) -> bool:
    return any(part.startswith(".") for part in rel.parts)


def _is_asset(rel: PurePosixPath) -> bool:
    """Served under /static/ and precached by the service worker: the same set, so that its install never 404s."""
    return rel.as_posix() not in TEMPLATES and not _hidden(rel)


def _scan_web() -> tuple[str, list[str]]:
    """The version (hash of every file's path and bytes) and the asset paths, recomputed when web/ changes."""
    files = sorted(p for p in WEB_DIR.rglob("*") if p.is_file() and not _hidden(_rel(p, WEB_DIR)))
    key = tuple((str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in files)
    if key != _state["key"]:
        digest = hashlib.sha256()
        for p in files:
            digest.update(str(p.relative_to(WEB_DIR)).encode() + b"\0" + p.read_bytes())
        rels = [_rel(p, WEB_DIR) for p in files]
        _state.update(key=key, version=digest.hexdigest()[:12], assets=[r.as_posix() for r in rels if _is_asset(r)])
    return _state["version"], _state["assets"]


async def asset_version() -> str:
    """The current version of the web assets (their ``/static/<version>/`` prefix)."""
    return (await trio.to_thread.run_sync(_scan_web))[0]


def _render_template(name: str) -> str:
    version, assets = _scan_web()
    text = (WEB_DIR / name).read_text("utf-8")
    languages = ",".join(sorted(PurePosixPath(a).stem for a in assets if a.startswith("i18n/") and a.endswith(".json")))
    return text.replace("__V__", version).replace("__ASSETS__", json.dumps(assets)).replace("__LANGUAGES__", languages)


async def _template(name: str, mimetype: str) -> Response:
    text = await trio.to_thread.run_sync(_render_template, name)
    resp = Response(text, mimetype=mimetype, headers={"Cache-Control": NO_CACHE})
    if name == "index.html":  # the app shell: its CSP lets it play the internet radio stations
        from .radio import app_csp

        resp.headers["Content-Security-Policy"] = await app_csp()
    return resp


def _app_present() -> bool:
    return (WEB_DIR / "index.html").is_file()


def _read_asset(path: str) -> tuple[bytes, str] | None:
    """(bytes, current version) of a web asset, or None when ``path`` names none."""
    if not _app_present():
        return None
    root = WEB_DIR.resolve()
    target = (root / path).resolve()
    if root not in target.parents or not target.is_file() or not _is_asset(_rel(target, root)):
        return None
    return target.read_bytes(), _scan_web()[0]


@bp.get("/static/<version>/<path:path>")
@access(PUBLIC)
async def static_asset(version: str, path: str):
    """A file of the web app; immutable when ``version`` is the current one."""
    from .errors import ApiError

    found = await trio.to_thread.run_sync(_read_asset, path)
    if found is None:
        raise ApiError(404, "not_found", f"no web asset {path}")
    data, current = found
    suffix = PurePosixPath(path).suffix
    mime = MIME.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    resp = Response(data, mimetype=mime)
    resp.headers["Cache-Control"] = IMMUTABLE if version == current else NO_CACHE
    return resp


@bp.get("/sw.js")
@access(PUBLIC)
async def service_worker():
    """The web app's service worker (scope ``/``)."""
    from .errors import ApiError

    if not _app_present():
        raise ApiError(404, "not_found", "the web app is not installed on this node")
    resp = await _template("sw.js", "text/javascript")
    resp.headers["Service-Worker-Allowed"] = "/"
    return resp


@bp.get("/manifest.webmanifest")
@access(PUBLIC)
async def manifest():
    """The web app manifest (at a stable address, for installation)."""
    from .errors import ApiError

    if not _app_present():
        raise ApiError(404, "not_found", "the web app is not installed on this node")
    resp = await _template("manifest.webmanifest", "application/manifest+json")
    return resp


# Icons browsers ask for by themselves at the root, whatever the page links: /favicon.ico (every
# browser, also on the API's JSON pages) and Apple's touch icons (iOS, when a page is added to the
# home screen). Each falls back to the next file present; none present is a plain 404.
ROOT_ICONS = {
    "favicon.ico": (("icons/favicon.ico", "image/x-icon"), ("icons/icon.svg", "image/svg+xml")),
    "apple-touch-icon.png": (("icons/apple-touch-icon.png", "image/png"), ("icons/icon-192.png", "image/png")),
}
ROOT_ICONS["apple-touch-icon-precomposed.png"] = ROOT_ICONS["apple-touch-icon.png"]


@bp.get("/<any(" + ", ".join(f'"{name}"' for name in ROOT_ICONS) + "):name>")
@access(PUBLIC)
async def root_icon(name: str):
    """The app's icon where browsers look for it without being told."""
    from .errors import ApiError

    found = await trio.to_thread.run_sync(_first_icon, name)
    if found is None:
        raise ApiError(404, "not_found", "no icon")
    data, mime = found
    return Response(data, mimetype=mime, headers={"Cache-Control": "public, max-age=86400"})


def _first_icon(name: str) -> tuple[bytes, str] | None:
    for rel, mime in ROOT_ICONS[name]:
        icon = WEB_DIR / rel
        if icon.is_file():
            return icon.read_bytes(), mime
    return None


@bp.get("/<any(" + ", ".join(CLIENT_ROUTES) + "):section>")
@bp.get("/<any(" + ", ".join(CLIENT_ROUTES) + "):section>/<path:rest>")
@access(PUBLIC)
async def client_route(section: str, rest: str = ""):
    """A page of the web app (history routing): the app shell."""
    from .errors import ApiError

    if not _app_present():
        raise ApiError(404, "not_found", "the web app is not installed on this node")
    return await _template("index.html", "text/html")


@bp.get("/")
@access(PUBLIC)
async def root():
    if _app_present():
        return await _template("index.html", "text/html")
    node = current_app.node
    counts = await node.store.read(tracks_store.counts)
    no_users = await node.store.read(users_store.count) == 0
    name = html.escape(node.config.name)
    scanning = "a scan is running" if node.scanner.running else "idle"
    setup = ("<p><strong>No users yet.</strong> Create the owner with <code>sonantica user add NAME</code>, "
             "or <code>POST /api/v1/setup</code> from this machine.</p>") if no_users else ""
    page = f"""<!doctype html><html lang="en"><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{name}</title>
<link rel="icon" href="data:,">
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem}}</style>
<h1>{name}</h1>
<p>{counts['tracks']} tracks, {counts['albums']} albums, {counts['artists']} artists — library {scanning}.</p>
{setup}
<ul><li><a href="/api/v1/openapi.json">Native API (OpenAPI)</a></li>
<li>Subsonic apps: use this address with your user name and password.</li></ul>
</html>"""
    return Response(page, mimetype="text/html")
