"""Cover art for the native and Subsonic APIs: this node's covers first, then members' (fetched, cached),
else a placeholder picture.

One rule for both APIs (Navidrome's): every cover id the node advertises answers an image. An id of a
track, album, artist or playlist that exists answers its art, or the placeholder when it has none or
its art cannot be had now (a member away, a file gone since the scan, an unreadable picture); an id
that names nothing answers not found. Subsonic advertises a ``coverArt`` id on every item (clients
expect one); the native API sets ``cover_url`` only where real art exists, so the web app draws its
own placeholder for the others without asking.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..errors import InvalidInput, NotFound
from ..federation.covers import member_cover_bytes
from ..library import artwork
from ..store import browse
from ..store import playlists as pl

log = logging.getLogger(__name__)

CACHE_ART = "private, max-age=604800"  # art is content-addressed or changes its advertised id
CACHE_PLACEHOLDER = "private, max-age=300"  # art may appear (a scan, a member back): ask again soon


@dataclass(frozen=True)
class Cover:
    data: bytes
    mime: str
    placeholder: bool = False

    @property
    def cache_control(self) -> str:
        return CACHE_PLACEHOLDER if self.placeholder else CACHE_ART


async def cover_bytes(node, ident: str, size: int | None) -> tuple[bytes, str]:
    """(image bytes, MIME type) of the cover of a cover, track, album or artist id; NotFound if none."""
    try:
        return await artwork.cover_bytes(node, ident, size)
    except NotFound:
        if node.federation is None:
            raise
    return await member_cover_bytes(node, ident, size)


def _subject(db, ident: str, user: dict) -> tuple[str, str]:
    """(id whose art to look up, placeholder kind) for an advertised cover id; NotFound if it names nothing."""
    if ident.startswith("pl-"):
        playlist = pl.get(db, ident)
        if not pl.can_read(playlist, user):
            raise NotFound(f"no playlist {ident}")
        return browse.first_cover_of(db, pl.items(db, ident)) or ident, "album"
    if ident.startswith(("em-", "fi-", "mx-")):
        if not browse.cover_exists(db, ident):
            raise NotFound(f"no cover art {ident}")
        return ident, "album"
    kind = browse.item_kind(db, ident)
    if kind is None:
        raise NotFound(f"no track, album, artist or playlist {ident}")
    return ident, "artist" if kind == "artist" else "album"


async def cover_or_placeholder(node, ident: str, size: int | None, user: dict) -> Cover:
    """The art of an advertised cover id (see the module's rule); NotFound if the id names nothing."""
    target, kind = await node.store.read(_subject, ident, user)
    if not target.startswith("pl-"):
        try:
            return Cover(*await cover_bytes(node, target, size))
        except (NotFound, InvalidInput) as exc:
            log.debug("cover %s: %s; placeholder served", ident, exc)
    return Cover(*await artwork.placeholder(kind, size), placeholder=True)
