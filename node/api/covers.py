"""Cover art for the native and Subsonic APIs: this node's covers first, then members' (fetched, cached)."""

from __future__ import annotations

from ..errors import NotFound
from ..federation.covers import member_cover_bytes
from ..library.artwork import cover_bytes as local_cover_bytes


async def cover_bytes(node, ident: str, size: int | None) -> tuple[bytes, str]:
    """(image bytes, MIME type) of the cover of a cover, track, album or artist id; NotFound if none."""
    try:
        return await local_cover_bytes(node, ident, size)
    except NotFound:
        if node.federation is None:
            raise
    return await member_cover_bytes(node, ident, size)
