"""Artist pictures and biographies from Wikidata, Wikimedia Commons and Wikipedia (no key needed).

From the Wikidata entity MusicBrainz links to the artist (``wikidata`` finding):
``wbgetentities`` gives the entity's image (property P18, a Commons file name) and its
Wikipedia article in ``metadata_language`` (sitelink ``{lang}wiki``). The picture is fetched
through Commons' ``Special:FilePath`` (which redirects to upload.wikimedia.org) at 1000 px; the
biography is the article's summary from Wikipedia's REST API (``page/summary``), plain text.
Both keep their source link and attribution (Commons file page; Wikipedia, CC BY-SA 4.0).
"""

from __future__ import annotations

import re
from urllib.parse import quote

from .base import Context
from .http import Endpoint

MAX_BIO = 6000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def endpoints(config) -> tuple[Endpoint, Endpoint, Endpoint]:
    wikipedia = config.metadata_wikipedia_url or f"https://{config.metadata_language}.wikipedia.org"
    return (Endpoint("wikidata", config.metadata_wikidata_url, spacing=0.5),
            Endpoint("commons", config.metadata_commons_url, spacing=0.5, redirect_hosts=("wikimedia.org",)),
            Endpoint("wikipedia", wikipedia, spacing=0.5))


class Artists:
    name = "wikimedia"
    kind = "artist"

    async def lookup(self, ctx: Context, artist: dict) -> dict:
        entity = artist.get("wikidata")
        if not isinstance(entity, str) or not re.fullmatch(r"Q\d{1,12}", entity):
            return {}
        if (artist.get("image") or artist.get("own_picture")) and artist.get("biography") and not ctx.fresh:
            return {}
        wikidata, commons, wikipedia = endpoints(ctx.config)
        site = f"{ctx.config.metadata_language.replace('-', '_')}wiki"
        found = await ctx.json(wikidata, "/w/api.php", {"action": "wbgetentities", "ids": entity,
                                                        "props": "claims|sitelinks", "sitefilter": site,
                                                        "format": "json"})
        item = ((found or {}).get("entities") or {}).get(entity) if isinstance((found or {}).get("entities"), dict) else None
        if not isinstance(item, dict):
            return {}
        out: dict = {}
        image = image_name(item)
        if image and not artist.get("own_picture") and not (artist.get("image") and not ctx.fresh):
            url = f"{commons.base}/wiki/Special:FilePath/{quote(image)}?width=1000"
            cover = await ctx.keep_image(commons, url)
            if cover:
                out |= {"image": cover, "image_source": f"{commons.base}/wiki/File:{quote(image.replace(' ', '_'))}",
                        "image_attribution": f"Picture: {image}, Wikimedia Commons"}
        title = sitelink(item, site)
        if title and not (artist.get("biography") and not ctx.fresh):
            summary = await ctx.json(wikipedia, f"/api/rest_v1/page/summary/{quote(title.replace(' ', '_'), safe='')}")
            out |= biography(summary or {}, wikipedia.base, title)
        return out


def image_name(item: dict) -> str | None:
    claims = item.get("claims") if isinstance(item.get("claims"), dict) else {}
    for claim in claims.get("P18") or []:
        try:
            value = claim["mainsnak"]["datavalue"]["value"]
        except (KeyError, TypeError):
            continue
        if isinstance(value, str) and 0 < len(value) < 240 and "/" not in value:
            return value
    return None


def sitelink(item: dict, site: str) -> str | None:
    links = item.get("sitelinks") if isinstance(item.get("sitelinks"), dict) else {}
    link = links.get(site)
    title = link.get("title") if isinstance(link, dict) else None
    return title if isinstance(title, str) and 0 < len(title) < 256 else None


def biography(summary: dict, base: str, title: str) -> dict:
    text = summary.get("extract")
    if summary.get("type") == "disambiguation" or not isinstance(text, str) or not text.strip():
        return {}
    text = _CONTROL.sub("", text).strip()
    if len(text) > MAX_BIO:
        text = text[:MAX_BIO].rsplit(" ", 1)[0] + " …"
    page = None
    urls = summary.get("content_urls")
    if isinstance(urls, dict) and isinstance(urls.get("desktop"), dict):
        page = urls["desktop"].get("page")
    if not isinstance(page, str) or not page.startswith(("https://", "http://")):
        page = f"{base}/wiki/{quote(title.replace(' ', '_'))}"
    return {"biography": text, "biography_source": page,
            "biography_attribution": "From Wikipedia, the free encyclopedia (CC BY-SA 4.0)"}
