"""Playlists: list, get, create (and replace), update, delete — over the native playlist store."""

from __future__ import annotations

from ...errors import NotFound
from ...store import browse
from ...store import playlists as pl
from . import shapes
from .core import Call, method
from .envelope import NOT_AUTHORISED, SubsonicError, missing, not_found


async def _readable(call: Call, ident: str) -> dict:
    try:
        p = await call.store.read(pl.get, ident)
    except NotFound:
        raise not_found(f"playlist {ident!r}") from None
    if not pl.can_read(p, call.user):
        raise not_found(f"playlist {ident!r}")
    return p


async def _writable(call: Call, ident: str) -> dict:
    p = await _readable(call, ident)
    if not pl.can_write(p, call.user):
        raise SubsonicError(NOT_AUTHORISED, "only the playlist's owner can change it")
    return p


async def _known(call: Call, ids: list[str]) -> list[str]:
    found = {t["id"] for t in await call.store.read(browse.tracks_by_ids, ids)}
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise not_found(f"song {unknown[0]!r}")
    return ids


async def _with_songs(call: Call, ident: str) -> dict:
    p = await call.store.read(pl.get, ident)
    ids = await call.store.read(pl.items, ident)
    tracks = await call.store.read(browse.tracks_by_ids, ids)
    x = await shapes.decorate(call, tracks=tracks)
    out = shapes.playlist(p, call.user)
    out["entry"] = [shapes.child(t, x) for t in tracks]
    return {"playlist": out}


@method("getPlaylists")
async def get_playlists(call: Call) -> dict:
    rows = await call.store.read(pl.visible, call.uid)
    wanted = call.get("username")
    if wanted:
        rows = [p for p in rows if p["owner"].casefold() == wanted.casefold()]
    return {"playlists": {"playlist": [shapes.playlist(p, call.user) for p in rows]}}


@method("getPlaylist")
async def get_playlist(call: Call) -> dict:
    ident = call.require("id")
    await _readable(call, ident)
    return await _with_songs(call, ident)


@method("createPlaylist")
async def create_playlist(call: Call) -> dict:
    ident, name = call.get("playlistId"), call.get("name")
    songs = await _known(call, call.all("songId"))
    if ident:
        await _writable(call, ident)

        def replace(db):
            if name:
                pl.update(db, ident, name=name)
            pl.set_items(db, ident, songs)

        await call.store.write(replace)
    else:
        if not name:
            raise missing("name")
        ident = await call.store.write(pl.create, call.uid, name, songs)
    return await _with_songs(call, ident)


@method("updatePlaylist")
async def update_playlist(call: Call) -> dict:
    ident = call.require("playlistId")
    await _writable(call, ident)
    add = await _known(call, call.all("songIdToAdd"))
    remove = call.ints("songIndexToRemove", 0, pl.MAX_ITEMS)
    public = None if call.get("public") in (None, "") else call.bool("public")

    def run(db):
        pl.update(db, ident, name=call.get("name") or None, comment=call.get("comment"),
                  public=public)
        if add or remove:
            pl.edit(db, ident, add, remove)

    await call.store.write(run)
    return {}


@method("deletePlaylist")
async def delete_playlist(call: Call) -> dict:
    ident = call.require("id")
    p = await _readable(call, ident)
    if p["owner_id"] != call.uid and call.user["role"] != "owner":
        raise SubsonicError(NOT_AUTHORISED, "only the playlist's owner can delete it")
    await call.store.write(pl.delete, ident)
    return {}
