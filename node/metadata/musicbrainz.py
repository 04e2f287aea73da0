"""MusicBrainz (ws/2, JSON): releases, recordings and artists, by MBID first, then by tags.

An album is matched by its tag release MBID when it has one (``GET /ws/2/release/{mbid}``);
else by a search on title, album artist and track count, each candidate confirmed by its
track list: same number of tracks and every length within ``LENGTH_SLACK_S`` of ours. The
release gives the release group, the album artist's MBID and each track's recording MBID
(matched by disc and track number). An artist is looked up by its MBID (from tags or from a
matched release) or found by a search whose best answer carries exactly its name, and its
url-relations give the Wikidata entity used for pictures and biographies.

MusicBrainz asks for one request a second and a User-Agent naming the application and a
contact (see ``http.user_agent``). Nothing is ever written to the user's files.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from ..library.tagmap import normalise
from .base import Context
from .http import Endpoint

MBID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
RELEASE_INC = "artist-credits+recordings+release-groups"
LENGTH_SLACK_S = 7.0
MIN_SCORE = 80
MAX_CANDIDATES = 3
_LUCENE = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/])')


def endpoint(config) -> Endpoint:
    return Endpoint("musicbrainz", config.metadata_musicbrainz_url, spacing=1.0)


def is_mbid(value) -> bool:
    return isinstance(value, str) and bool(MBID.match(value))


def quote(text: str) -> str:
    """A phrase for a Lucene query: special characters escaped, in double quotes."""
    return '"' + _LUCENE.sub(r"\\\1", text) + '"'


class Albums:
    name = "musicbrainz"
    kind = "album"

    async def lookup(self, ctx: Context, album: dict) -> dict:
        ep = endpoint(ctx.config)
        release = None
        for mbid in (album.get("release_mbid"), album.get("mbid")):
            if is_mbid(mbid):
                release = await ctx.json(ep, f"/ws/2/release/{mbid}", {"inc": RELEASE_INC, "fmt": "json"})
                if release is not None:
                    break
        if release is None:
            release = await _search_release(ctx, ep, album)
        return findings(release, album) if release else {}


async def _search_release(ctx: Context, ep: Endpoint, album: dict) -> dict | None:
    tracks = album["tracks"]
    if not album.get("name") or not tracks:
        return None
    query = f"release:{quote(album['name'])} AND tracks:{len(tracks)}"
    if album.get("artist"):
        query += f" AND artist:{quote(album['artist'])}"
    found = await ctx.json(ep, "/ws/2/release/", {"query": query, "fmt": "json", "limit": 5})
    releases = (found or {}).get("releases")
    if not isinstance(releases, list):
        return None
    tried = 0
    for cand in releases:
        if not isinstance(cand, dict) or not is_mbid(cand.get("id")) or _int(cand.get("score")) < MIN_SCORE:
            continue
        if _int(cand.get("track-count"), len(tracks)) != len(tracks) or tried >= MAX_CANDIDATES:
            continue
        tried += 1
        release = await ctx.json(ep, f"/ws/2/release/{cand['id']}", {"inc": RELEASE_INC, "fmt": "json"})
        if release and lengths_match(release_tracks(release), tracks):
            return release
    return None


def release_tracks(release: dict) -> list[dict]:
    """[{disc, number, recording, length_s}] in release order; malformed parts are skipped."""
    out = []
    media = release.get("media") if isinstance(release.get("media"), list) else []
    for m_index, medium in enumerate(media, 1):
        if not isinstance(medium, dict) or not isinstance(medium.get("tracks"), list):
            continue
        disc = _int(medium.get("position"), m_index)
        for t_index, track in enumerate(medium["tracks"], 1):
            if not isinstance(track, dict):
                continue
            rec = track.get("recording") if isinstance(track.get("recording"), dict) else {}
            length = track.get("length") if isinstance(track.get("length"), int) else rec.get("length")
            out.append({"disc": disc, "number": _int(track.get("position"), t_index),
                        "recording": rec.get("id") if is_mbid(rec.get("id")) else None,
                        "length_s": length / 1000 if isinstance(length, int) else None})
    return out


def lengths_match(theirs: list[dict], ours: list[dict]) -> bool:
    if len(theirs) != len(ours):
        return False
    for a, b in zip(theirs, sorted(ours, key=_order)):
        if a["length_s"] is not None and abs(a["length_s"] - (b.get("duration") or 0)) > LENGTH_SLACK_S:
            return False
    return True


def findings(release: dict, album: dict) -> dict:
    if not is_mbid(release.get("id")):
        return {}
    group = release.get("release-group") if isinstance(release.get("release-group"), dict) else {}
    credits = release.get("artist-credit") if isinstance(release.get("artist-credit"), list) else []
    artist = next((c.get("artist") for c in credits if isinstance(c, dict) and isinstance(c.get("artist"), dict)), {})
    theirs = release_tracks(release)
    by_pos = {(t["disc"], t["number"]): t["recording"] for t in theirs}
    recordings = {}
    ours = sorted(album["tracks"], key=_order)
    for i, t in enumerate(ours):
        rec = by_pos.get((t.get("disc_no") or 1, t.get("track_no") or 0))
        if rec is None and len(ours) == len(theirs):
            rec = theirs[i]["recording"]
        if rec:
            recordings[t["id"]] = rec
    caa = release.get("cover-art-archive") if isinstance(release.get("cover-art-archive"), dict) else {}
    return {"release_mbid": release["id"],
            "release_group_mbid": group.get("id") if is_mbid(group.get("id")) else None,
            "artist_mbid": artist.get("id") if is_mbid(artist.get("id")) else None,
            "recordings": recordings, "caa_front": caa.get("front")}


class Artists:
    name = "musicbrainz"
    kind = "artist"

    async def lookup(self, ctx: Context, artist: dict) -> dict:
        ep = endpoint(ctx.config)
        mbid = next((m for m in (artist.get("mbid"), artist.get("tag_mbid"), artist.get("album_mbid")) if is_mbid(m)),
                    None)
        if mbid is None:
            mbid = await _search_artist(ctx, ep, artist["name"])
        if mbid is None:
            return {}
        found = await ctx.json(ep, f"/ws/2/artist/{mbid}", {"inc": "url-rels", "fmt": "json"})
        if not found:
            return {}
        return {"mbid": mbid, "disambiguation": disambiguation(found), **relations(found)}


def disambiguation(artist: dict) -> str | None:
    """MusicBrainz's comment telling same-named artists apart ("French electronic duo"): plain, short text."""
    text = artist.get("disambiguation")
    if not isinstance(text, str):
        return None
    text = " ".join("".join(ch for ch in text if ch.isprintable()).split())[:200]
    return text or None


async def _search_artist(ctx: Context, ep: Endpoint, name: str) -> str | None:
    if not name or normalise(name) in ("", "various artists", "unknown artist"):
        return None
    found = await ctx.json(ep, "/ws/2/artist/", {"query": f"artist:{quote(name)}", "fmt": "json", "limit": 5})
    artists = (found or {}).get("artists")
    if not isinstance(artists, list):
        return None
    for cand in artists:
        if isinstance(cand, dict) and is_mbid(cand.get("id")) and _int(cand.get("score")) >= 90 \
                and normalise(str(cand.get("name", ""))) == normalise(name):
            return cand["id"]
    return None


def relations(artist: dict) -> dict:
    """The Wikidata entity (``Q…``) among an artist's url-relations."""
    rels = artist.get("relations") if isinstance(artist.get("relations"), list) else []
    for rel in rels:
        if not isinstance(rel, dict) or rel.get("type") != "wikidata":
            continue
        url = (rel.get("url") or {}).get("resource") if isinstance(rel.get("url"), dict) else None
        if isinstance(url, str):
            entity = urlsplit(url).path.rsplit("/", 1)[-1]
            if re.fullmatch(r"Q\d{1,12}", entity):
                return {"wikidata": entity}
    return {}


def _order(t: dict) -> tuple:
    return (t.get("disc_no") or 1, t.get("track_no") or 0, t.get("title") or "")


def _int(value, default: int = 0) -> int:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return default
