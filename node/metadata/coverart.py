"""Cover Art Archive: the front cover of a matched release, for albums with no art of their own.

``GET /release/{mbid}`` lists the release's images (JSON); the one marked ``front`` is fetched
at 1200 px (else the largest thumbnail offered, else the original). The archive's image links
redirect to archive.org, which is therefore the one other host its answers may lead to.
"""

from __future__ import annotations

from .base import Context
from .http import Endpoint
from .musicbrainz import is_mbid

THUMBS = ("1200", "large", "500", "250", "small")


def endpoint(config) -> Endpoint:
    return Endpoint("coverartarchive", config.metadata_coverartarchive_url, spacing=0.5,
                    redirect_hosts=("archive.org",))


class Covers:
    name = "coverartarchive"
    kind = "album"

    async def lookup(self, ctx: Context, album: dict) -> dict:
        if album.get("own_cover") or not is_mbid(album.get("release_mbid")) or album.get("caa_front") is False:
            return {}
        if album.get("cover") and not ctx.fresh:
            return {}  # fetched before and still on disk
        ep = endpoint(ctx.config)
        listing = await ctx.json(ep, f"/release/{album['release_mbid']}")
        url = front_url(listing or {})
        if url is None:
            return {}
        cover = await ctx.keep_image(ep, url)
        return {"cover": cover, "cover_source": url} if cover else {}


def front_url(listing: dict) -> str | None:
    images = listing.get("images") if isinstance(listing.get("images"), list) else []
    for image in images:
        if not isinstance(image, dict):
            continue
        types = image.get("types") if isinstance(image.get("types"), list) else []
        if image.get("front") is True or "Front" in types:
            thumbs = image.get("thumbnails") if isinstance(image.get("thumbnails"), dict) else {}
            for size in THUMBS:
                if isinstance(thumbs.get(size), str):
                    return thumbs[size]
            return image.get("image") if isinstance(image.get("image"), str) else None
    return None
