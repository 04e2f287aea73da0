"""Search: search2 and search3. An empty (or ``""``) query lists everything, paged by
offset, because clients (Symfonium, Tempo…) sync their whole library that way."""

from __future__ import annotations

from ...library import search as search_mod
from ...store import browse
from ...store import subsonic_queries as sq
from . import shapes
from .core import Call, method


async def _search(call: Call):
    query = (call.get("query") or "").strip()
    if query in ('""', "''", "*"):
        query = ""
    query = query[:200]
    counts = {k: call.int(f"{k}Count", 20, 0, 500) for k in ("artist", "album", "song")}
    offsets = {k: call.int(f"{k}Offset", 0, 0) for k in ("artist", "album", "song")}
    folder = call.int("musicFolderId", None)

    def run(db):
        if search_mod.fts_query(query) is None:
            artists = sq.artists_page(db, offsets["artist"], counts["artist"]) if counts["artist"] else []
            albums = browse.albums_page(db, "lower(coalesce(a.sort_name, a.name)), a.id", offsets["album"],
                                        counts["album"], *(("a.folder_id = ?", [folder]) if folder is not None
                                                           else ())) if counts["album"] else []
            tracks = sq.tracks_page(db, offsets["song"], counts["song"], folder) if counts["song"] else []
            return artists, albums, tracks
        return (
            browse.artists_by_ids(db, search_mod.search_artists(db, query, counts["artist"], offsets["artist"])),
            browse.albums_by_ids(db, search_mod.search_albums(db, query, counts["album"], offsets["album"])),
            browse.tracks_by_ids(db, search_mod.search_tracks(db, query, counts["song"], offsets["song"])),
        )

    artists, albums, tracks = await call.store.read(run)
    return artists, albums, tracks, await shapes.decorate(call, tracks=tracks, albums=albums, artists=artists)


@method("search2")
async def search2(call: Call) -> dict:
    artists, albums, tracks, x = await _search(call)
    return {"searchResult2": {"artist": [shapes.artist_v1(a, x) for a in artists],
                              "album": [shapes.album_child(a, x) for a in albums],
                              "song": [shapes.child(t, x) for t in tracks]}}


@method("search3")
async def search3(call: Call) -> dict:
    artists, albums, tracks, x = await _search(call)
    return {"searchResult3": {"artist": [shapes.artist_id3(a, x) for a in artists],
                              "album": [shapes.album_id3(a, x) for a in albums],
                              "song": [shapes.child(t, x) for t in tracks]}}
