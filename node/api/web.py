"""The root page, the API document and a health check.

Until the web app is present in ``web/``, ``/`` is a plain page that says what
is true: the node's name, its library and where the API documentation is.
"""

from __future__ import annotations

import html
from pathlib import Path

from quart import Blueprint, Response, current_app, jsonify

from ..store import tracks as tracks_store
from ..store import users as users_store
from .access import PUBLIC, access

bp = Blueprint("web", __name__)

WEB_DIR = Path(__file__).resolve().parents[2] / "web"


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


@bp.get("/")
@access(PUBLIC)
async def root():
    index = WEB_DIR / "index.html"
    if index.exists():
        return Response(index.read_bytes(), mimetype="text/html")
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
