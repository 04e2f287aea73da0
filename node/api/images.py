"""Picture URLs a client may load without credentials: ``/img/{id}?size=N&sig=…``.

Subsonic's ``artistImageUrl`` and ``getArtistInfo``/``getAlbumInfo``'s image URLs are loaded
by apps as plain images (no auth parameters), and must point at this node, never at the
provider the picture came from. Each URL carries a keyed BLAKE2b signature of the id and size,
keyed by a secret derived from the node's identity key: only URLs the node handed out answer,
and they keep working across restarts. The picture is answered like ``getCoverArt`` (the art,
or the placeholder); ids are limited to albums, artists, tracks and covers.
"""

from __future__ import annotations

import hashlib
import hmac

import trio
from quart import Blueprint, Response, current_app, request

from .access import PUBLIC, access
from .covers import cover_or_placeholder
from .errors import ApiError

bp = Blueprint("images", __name__)
SIZES = {"small": 150, "medium": 300, "large": 600}
_KINDS = ("ar-", "al-", "tr-", "em-", "fi-", "mx-")


async def _key(node) -> bytes:
    key = getattr(node, "_image_url_key", None)
    if key is None:
        from ..identity import load_seed

        seed = await trio.to_thread.run_sync(load_seed, node.data.key_path)
        key = node._image_url_key = hashlib.blake2b(seed, person=b"sonantica-img", digest_size=32).digest()
    return key


def _sign(key: bytes, ident: str, size: int) -> str:
    return hashlib.blake2b(f"{ident}|{size}".encode(), key=key, digest_size=16).hexdigest()


async def image_url(node, ident: str, size: int) -> str:
    """An absolute URL of this node answering the picture of ``ident`` at ``size`` pixels."""
    sig = _sign(await _key(node), ident, size)
    return f"{request.host_url.rstrip('/')}/img/{ident}?size={size}&sig={sig}"


async def image_urls(node, ident: str) -> dict:
    """smallImageUrl, mediumImageUrl, largeImageUrl (Subsonic's artistInfo and albumInfo fields)."""
    return {f"{name}ImageUrl": await image_url(node, ident, size) for name, size in SIZES.items()}


@bp.get("/img/<ident>")
@access(PUBLIC)
async def image(ident: str):
    node = current_app.node
    size_raw, sig = request.args.get("size", ""), request.args.get("sig", "")
    if not ident.startswith(_KINDS) or not size_raw.isdigit() or not 16 <= int(size_raw) <= 2048:
        raise ApiError(404, "not_found", "no such picture")
    size = int(size_raw)
    if not hmac.compare_digest(_sign(await _key(node), ident, size), sig):
        raise ApiError(404, "not_found", "no such picture")
    cover = await cover_or_placeholder(node, ident, size, {"id": "", "role": "listener"})
    return Response(cover.data, mimetype=cover.mime, headers={"Cache-Control": cover.cache_control})
