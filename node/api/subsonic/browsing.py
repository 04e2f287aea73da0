"""Browsing: folders, indexes, directories, artists, albums, songs, genres, info, top and similar songs."""

from __future__ import annotations

import hashlib
import time

from ...errors import NotFound
from ...store import browse
from .. import params
from ...store import subsonic_queries as sq
from ...store import scope
from ...store import tracks as tracks_store
from . import shapes
from .core import Call, method
from .envelope import not_found

IGNORED_ARTICLES = "The El La Los Las Le Les Die Das Der"


def index_letter(name: str) -> str:
    words = name.split(" ", 1)
    if len(words) == 2 and words[0] in IGNORED_ARTICLES.split():
        name = words[1]
    first = name[:1].upper()
    return first if first.isalpha() else "#"


def _group(artists: list[dict], shape) -> list[dict]:
    groups: dict[str, list[dict]] = {}
    for ar in artists:
        groups.setdefault(index_letter(ar["name"]), []).append(shape(ar))
    return [{"name": k, "artist": v} for k, v in sorted(groups.items(), key=lambda kv: (kv[0] == "#", kv[0]))]


@method("getMusicFolders")
async def get_music_folders(call: Call) -> dict:
    from ...store import peers as peers_store

    rows = await call.store.read(tracks_store.folders)
    rows += await call.store.read(peers_store.member_folder_list)  # one folder per federation member
    return {"musicFolders": {"musicFolder": [{"id": r["id"], "name": r["name"]} for r in rows
                                             if scope.allows(r["id"])]}}  # the caller's folders only


def _index_with_mark(db, folder: int | None) -> tuple[list[dict], str, tuple[str, float] | None]:
    """The folder's (or all) album artists, a fingerprint of what getIndexes lists, and the stored mark."""
    artists = browse.all_album_artists(db, folder)
    h = hashlib.blake2b(digest_size=16)
    for ar in artists:
        h.update(f"{ar['id']}\0{ar['name']}\n".encode())
    return artists, h.hexdigest(), tracks_store.index_mark(db, _index_key(folder))


def _index_key(folder: int | None) -> str:
    """One mark per folder and per set of visible folders, so listeners limited differently do not move
    each other's lastModified."""
    key = "indexes" if folder is None else f"indexes:{folder}"
    visible = scope.visible()
    return key if visible is None else f"{key}:only:{','.join(map(str, sorted(visible)))}"


@method("getIndexes")
async def get_indexes(call: Call) -> dict:
    """``lastModified`` is when the listed artists last changed (a scan that changes nothing leaves it),
    and ``ifModifiedSince`` at or past it answers the indexes element without an index, as Subsonic says."""
    folder = call.int("musicFolderId", None)
    artists, digest, mark = await call.store.read(_index_with_mark, folder)
    if mark is not None and mark[0] == digest:
        changed = mark[1]
    else:
        changed = await call.store.write(tracks_store.set_index_mark, _index_key(folder), digest, time.time())
    modified = int(changed * 1000)
    since = call.int("ifModifiedSince", None, 0, 2**62)
    out = {"ignoredArticles": IGNORED_ARTICLES, "lastModified": modified}
    if since is not None and since >= modified:
        return {"indexes": out}
    x = await shapes.decorate(call, artists=artists)
    return {"indexes": out | {"index": _group(artists, lambda a: shapes.artist_v1(a, x))}}


@method("getArtists")
async def get_artists(call: Call) -> dict:
    folder = call.int("musicFolderId", None)
    artists = await call.store.read(browse.all_album_artists, folder)
    x = await shapes.decorate(call, artists=artists)
    return {"artists": {"ignoredArticles": IGNORED_ARTICLES,
                        "index": _group(artists, lambda a: shapes.artist_id3(a, x))}}


@method("getMusicDirectory")
async def get_music_directory(call: Call) -> dict:
    ident = call.require("id")
    store = call.store
    if ident.startswith("ar-"):
        artist = await _get(store, browse.get_artist, ident, "artist")
        albums = await store.read(browse.artist_albums, ident)
        x = await shapes.decorate(call, albums=albums, artists=[artist])
        return {"directory": shapes.clean({
            "id": artist["id"], "name": artist["name"], "starred": x.starred(ident), "userRating": x.rating(ident),
            "child": [shapes.album_child(a, x) for a in albums]})}
    if ident.startswith("al-"):
        album = await _get(store, browse.get_album, ident, "album")
        tracks = await store.read(browse.album_tracks, ident)
        x = await shapes.decorate(call, tracks=tracks, albums=[album])
        return {"directory": shapes.clean({
            "id": album["id"], "parent": album.get("artist_id"), "name": album["name"],
            "starred": x.starred(ident), "userRating": x.rating(ident), "playCount": x.play_count(ident),
            "child": [shapes.child(t, x) for t in tracks]})}
    raise not_found(f"directory {ident!r}")


async def _get(store, fn, ident: str, what: str) -> dict:
    try:
        return await store.read(fn, ident)
    except NotFound:
        raise not_found(f"{what} {ident!r}") from None


@method("getArtist")
async def get_artist(call: Call) -> dict:
    ident = call.require("id")
    artist = await _get(call.store, browse.get_artist, ident, "artist")
    albums = await call.store.read(browse.artist_albums, ident)
    x = await shapes.decorate(call, albums=albums, artists=[artist])
    out = shapes.artist_id3(artist, x)
    out["album"] = [shapes.album_id3(a, x) for a in albums]
    return {"artist": out}


@method("getAlbum")
async def get_album(call: Call) -> dict:
    ident = call.require("id")
    album = await _get(call.store, browse.get_album, ident, "album")
    tracks = await call.store.read(browse.album_tracks, ident)
    x = await shapes.decorate(call, tracks=tracks, albums=[album])
    album = {**album, "version": shapes.album_version(tracks), "disc_titles": shapes.disc_titles(tracks)}
    out = shapes.album_id3(album, x)
    out["song"] = [shapes.child(t, x) for t in tracks]
    return {"album": out}


@method("getSong")
async def get_song(call: Call) -> dict:
    ident = call.require("id")
    track = await _get(call.store, browse.require_track, ident, "song")
    x = await shapes.decorate(call, tracks=[track])
    return {"song": shapes.child(track, x)}


@method("getGenres")
async def get_genres(call: Call) -> dict:
    rows = await call.store.read(browse.list_genres)
    return {"genres": {"genre": [{"songCount": r["track_count"], "albumCount": r["album_count"], "value": r["name"]}
                                 for r in rows]}}


async def _artist_info(call: Call, key: str, shape) -> dict:
    ident = call.require("id")
    store = call.store
    if not ident.startswith("ar-"):  # clients pass album or song ids too
        ident = await store.read(_artist_of, ident)
    artist = await _get(store, browse.get_artist, ident or "", "artist")
    count = call.int("count", 20, 0, 100)
    similar_ids = await store.read(_similar_artist_ids, artist["id"], count)
    similar = await store.read(browse.artists_by_ids, similar_ids)
    x = await shapes.decorate(call, artists=similar)
    info = shapes.clean(await _outside_artist(call, artist))
    info["similarArtist"] = [shape(a, x) for a in similar]
    return {key: info}


async def _outside_artist(call: Call, artist: dict) -> dict:
    """Biography (as text: escaped, with its source), MBID and picture URLs served by this node."""
    import html

    from ...store import metadata as meta_store
    from ..images import image_urls

    from ...federation.artist_info import with_members

    info = await with_members(call.node, artist, await call.store.read(meta_store.artist_info, artist["id"]))
    out: dict = {}  # in the XSD's order: biography, musicBrainzId, lastFmUrl, images
    if info["biography"]:
        bio = html.escape(info["biography"], quote=False)
        if info["biography_source"]:
            bio += f" ({html.escape(info['biography_attribution'] or '', quote=False)}: {html.escape(info['biography_source'])})"
        out["biography"] = bio
    out["musicBrainzId"] = artist.get("mbid") or info["mbid"]
    if await call.store.read(browse.cover_for, artist["id"]):
        out.update(await image_urls(call.node, artist["id"]))
    return out


def _similar_artist_ids(db, artist_id: str, count: int) -> list[str]:
    from ...analytics import recommend

    found = [a for a, _name, _score in recommend.similar_artists(db, artist_id, count) if a != artist_id]
    if found:
        return found[:count]
    seen, out = {artist_id}, []
    for t in sq.similar_tracks(db, sq.artist_track_ids(db, artist_id), 200):
        if t.get("artist_id") and t["artist_id"] not in seen and len(out) < count:
            seen.add(t["artist_id"])
            out.append(t["artist_id"])
    return out


def _artist_of(db, ident: str) -> str | None:
    for sql in (f"SELECT artist_id FROM lib_album WHERE id = ? AND {scope.sql()}",
                f"SELECT artist_id FROM lib_track WHERE id = ? AND {scope.sql()}"):
        row = db.conn.execute(sql, (ident,)).fetchone()
        if row and row[0]:
            return row[0]
    return None


@method("getArtistInfo")
async def get_artist_info(call: Call) -> dict:
    return await _artist_info(call, "artistInfo", shapes.artist_v1)


@method("getArtistInfo2")
async def get_artist_info2(call: Call) -> dict:
    return await _artist_info(call, "artistInfo2", shapes.artist_id3)


async def _album_info(call: Call, key: str) -> dict:
    ident = call.require("id")
    if ident.startswith("tr-"):
        ident = (await _get(call.store, browse.require_track, ident, "song"))["album_id"]
    album = await _get(call.store, browse.get_album, ident, "album")
    from ...store import metadata as meta_store
    from ..images import image_urls

    info = await call.store.read(meta_store.album_info, album["id"])
    out = {"musicBrainzId": album.get("mbid") or info["mbid"]}
    if album.get("cover"):
        out.update(await image_urls(call.node, album["id"]))
    return {key: shapes.clean(out)}


@method("getAlbumInfo")
async def get_album_info(call: Call) -> dict:
    return await _album_info(call, "albumInfo")


@method("getAlbumInfo2")
async def get_album_info2(call: Call) -> dict:
    return await _album_info(call, "albumInfo")


@method("getTopSongs")
async def get_top_songs(call: Call) -> dict:
    """By ``id`` (``topSongsByArtistId``: it wins over ``artist``) or by ``artist`` name."""
    count = call.int("count", 50, 0, 500)
    ident = params.ident(call.get("id"), "id")
    if ident is not None:
        if await call.store.read(browse.item_kind, ident) != "artist":
            raise not_found(f"artist {ident!r}")
        tracks = await call.store.read(sq.top_tracks_by_artist_id, ident, count)
    else:
        tracks = await call.store.read(sq.top_tracks_by_name, call.require("artist"), call.uid, count)
    x = await shapes.decorate(call, tracks=tracks)
    return {"topSongs": {"song": [shapes.child(t, x) for t in tracks]}}


async def _similar(call: Call, key: str) -> dict:
    ident = call.require("id")
    count = call.int("count", 50, 0, 500)
    store = call.store
    if ident.startswith("ar-"):
        seeds = await store.read(sq.artist_track_ids, ident)
    elif ident.startswith("al-"):
        seeds = [t["id"] for t in await store.read(browse.album_tracks, ident)]
    else:
        seeds = [(await _get(store, browse.require_track, ident, "song"))["id"]]
    if not seeds:
        raise not_found(f"item {ident!r}")
    tracks = await store.read(_recommended_like, seeds, count, call.uid)
    x = await shapes.decorate(call, tracks=tracks)
    return {key: {"song": [shapes.child(t, x) for t in tracks]}}


def _recommended_like(db, seeds: list[str], count: int, user_id: str) -> list[dict]:
    """The recommender's picks (co-listening, content, tags), else tracks sharing artist or genre."""
    from ...analytics import recommend

    picks = recommend.similar_to(db, seeds, count, user_id=user_id)
    if picks:
        return browse.tracks_by_ids(db, [p.id for p in picks])
    return sq.similar_tracks(db, seeds, count)


@method("getSimilarSongs")
async def get_similar_songs(call: Call) -> dict:
    return await _similar(call, "similarSongs")


@method("getSimilarSongs2")
async def get_similar_songs2(call: Call) -> dict:
    return await _similar(call, "similarSongs2")
