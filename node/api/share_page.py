"""The public page of a share link, and the only things it reaches: its cover, its songs' streams and,
when allowed, their downloads.

``/s/<token>`` needs no sign-in: the token (see :mod:`...sharing`) is the whole credential, and it
opens these four routes of that one share, nothing else (every other route treats it as the made-up
credential it is there). Songs are addressed by their place in the share (``/s/<token>/stream/3``), so
a visitor never learns a library id. A malformed, forged, expired or revoked token, or sharing turned
off, all answer the same 404. The page is plain HTML (text from the library escaped) with one
stylesheet and one small script from ``/static/`` (no inline script or style: the node's CSP holds);
a member's song streams through this node like any remote track (:func:`.streams.stream_response`).
"""

from __future__ import annotations

import html
from datetime import datetime, timezone

from quart import Blueprint, Response, current_app, request

from .. import sharing
from ..store import scope
from ..store import shares as shares_store
from ..store import users as users_store
from .access import PUBLIC, access
from .covers import cover_or_placeholder
from .errors import ApiError
from .shares import enabled, link_key
from .streams import choose_format, client_is_local, stream_response, track_source

bp = Blueprint("share_page", __name__)

PAGE_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow", "Referrer-Policy": "no-referrer"}


def _gone() -> ApiError:
    return ApiError(404, "not_found", "this link does not exist, has expired or was revoked")


async def open_share(token: str) -> dict:
    """The live share a token names, or the one 404 (whatever the reason)."""
    parts = sharing.split_token(token)
    if parts is None or not enabled():
        raise _gone()
    nonce, mac = parts
    share = await current_app.node.store.read(shares_store.by_nonce, nonce)
    if share is None or not sharing.token_matches(await link_key(), share["id"], nonce, mac):
        raise _gone()
    if not shares_store.is_live(share):
        raise _gone()
    # the page shows what its sharer may see (store/scope.py): a listener limited to some folders
    # shares nothing outside them, even what they shared before they were limited
    scope.limit_to(await current_app.node.store.read(users_store.scope_of, share["user_id"]))
    return share


async def _track(share: dict, index: int) -> dict:
    tracks = await current_app.node.store.read(shares_store.tracks_of, share)
    if not 0 <= index < len(tracks):
        raise _gone()
    return tracks[index]


def _time(seconds: float | None) -> str:
    if not seconds:
        return ""
    s = int(round(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def _date(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d")


def render(share: dict, title: str, tracks: list[dict], token: str, node_name: str, version: str) -> str:
    """The page; every text from the library or the author goes through html.escape."""
    e = html.escape
    base = f"/s/{token}"
    rows = []
    for i, t in enumerate(tracks):
        download = (f' <a class="dl" href="{base}/download/{i}" download>download</a>' if share["downloadable"] else "")
        rows.append(f'<li><a class="play" href="{base}/stream/{i}" data-index="{i}">{e(t["title"] or "Untitled")}</a>'
                    f' <span class="artist">{e(t.get("artist") or "")}</span>'
                    f' <span class="time">{_time(t.get("duration"))}</span>{download}</li>')
    expires = f" · until {_date(share['expires_at'])}" if share["expires_at"] else ""
    description = f'<p class="description">{e(share["description"])}</p>' if share["description"] else ""
    first = f' src="{base}/stream/0"' if tracks else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
<title>{e(title)} · {e(node_name)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/static/{version}/share/share.css">
<script type="module" src="/static/{version}/share/share.js"></script>
</head><body>
<main class="share">
<img class="cover" src="{base}/cover" alt="" width="300" height="300">
<h1>{e(title)}</h1>
{description}
<p class="meta">Shared by {e(share["username"])} from {e(node_name)} · {len(tracks)} song{"s" if len(tracks) != 1 else ""}{expires}</p>
<audio id="player" controls preload="metadata"{first}></audio>
<ol class="tracks">
{chr(10).join(rows)}
</ol>
</main>
</body></html>
"""


@bp.get("/s/<token>")
@access(PUBLIC)
async def share_page(token: str):
    """A share link's page: cover, songs, a player."""
    from .web import asset_version

    share = await open_share(token)
    store = current_app.node.store
    tracks = await store.read(shares_store.tracks_of, share)
    title = await store.read(shares_store.title_of, share)
    await store.write(shares_store.visited, share["id"])
    page = render(share, title, tracks, token, current_app.node.config.name, await asset_version())
    return Response(page, mimetype="text/html", headers=PAGE_HEADERS)


@bp.get("/s/<token>/cover")
@access(PUBLIC)
async def share_cover(token: str):
    """The share's cover art (its album's or playlist's, else its first song's; a placeholder if none)."""
    share = await open_share(token)
    store = current_app.node.store
    tracks = await store.read(shares_store.tracks_of, share)
    ident = shares_store.cover_of(share, tracks)
    author = {"id": share["user_id"], "role": "listener"}
    size = 600
    if ident is None:
        from ..library import artwork

        data, mime = await artwork.placeholder("album", size)
    else:
        cover = await cover_or_placeholder(current_app.node, ident, size, author)
        data, mime = cover.data, cover.mime
    return Response(data, mimetype=mime, headers={"Cache-Control": "private, max-age=300"})


@bp.route("/s/<token>/stream/<int:index>", methods=["GET", "HEAD"])
@access(PUBLIC)
async def share_stream(token: str, index: int):
    """A song of the share, for its player: the original on the LAN, else the node's default for the internet."""
    share = await open_share(token)
    track, path = await track_source((await _track(share, index))["id"])
    spec = choose_format(track, None, None, client_is_local(request.remote_addr), {})
    resp = await stream_response(track, path, spec, 0.0)
    resp.headers["Cache-Control"] = "no-store"
    return resp


@bp.route("/s/<token>/download/<int:index>", methods=["GET", "HEAD"])
@access(PUBLIC)
async def share_download(token: str, index: int):
    """A song of the share as its original file, when the author allowed downloads (404 otherwise)."""
    share = await open_share(token)
    if not share["downloadable"]:
        raise _gone()
    track, path = await track_source((await _track(share, index))["id"])
    return await stream_response(track, path, None, 0.0, download=True)
