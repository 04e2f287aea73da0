"""Podcasts: getPodcasts, getNewestPodcasts, getPodcastEpisode (extension), refreshPodcasts,
createPodcastChannel, deletePodcastChannel, downloadPodcastEpisode, deletePodcastEpisode.

Every user reads the node's podcasts; changing them needs the podcast role, which owners and
admins have (``getUser`` says ``podcastRole``), as Subsonic asks. An episode's ``id`` is also its
``streamId`` once its file is downloaded: ``stream``, ``download`` and ``getCoverArt`` take it
(see :mod:`.media`). The work is :class:`sonantica.node.podcasts.service.Podcasts`'s.
"""

from __future__ import annotations

from ...errors import NotFound
from ...store import podcasts as store
from ...streaming import mime_for
from .core import Call, method
from .envelope import GENERIC, NOT_AUTHORISED, SubsonicError, not_found
from .shapes import clean, iso


def can_manage(user: dict) -> bool:
    """Subsonic's podcastRole: owners and admins."""
    return user["role"] in ("owner", "admin")


def _manager(call: Call):
    if not can_manage(call.user):
        raise SubsonicError(NOT_AUTHORISED, "only an admin or the owner can manage podcasts (podcastRole)")
    return _running(call)


def _running(call: Call):
    podcasts = call.node.podcasts
    if podcasts is None:
        raise SubsonicError(GENERIC, "podcasts are not running on this node yet; try again in a moment")
    return podcasts


def episode(e: dict) -> dict:
    """A PodcastEpisode (a Child with the episode's fields); ``streamId`` only once its file is whole."""
    done = e["status"] == "completed" and e.get("file")
    year = int(iso(e["published_at"])[:4]) if e.get("published_at") else None
    return clean({
        "id": e["id"],
        "parent": e["channel_id"],
        "isDir": False,
        "title": e["title"],
        "album": e.get("channel_title") or None,
        "artist": e.get("channel_author") or e.get("channel_title") or None,
        "year": year,
        "coverArt": e["channel_id"],
        "size": e["size"] if done else None,
        "contentType": mime_for(e["file"]) if done else None,
        "suffix": e["format"] if done else None,
        "duration": int(e["duration"]) if e.get("duration") else None,
        "bitRate": e.get("bitrate") if done else None,
        "isVideo": False,
        "created": iso(e.get("downloaded_at") or e.get("created_at")),
        "type": "podcast",
        "played": iso(e.get("played_at")),
        "streamId": e["id"] if done else None,
        "channelId": e["channel_id"],
        "description": e.get("description") or None,
        "status": e["status"],
        "publishDate": iso(e.get("published_at")),
    })


def channel(c: dict, episodes: list[dict] | None) -> dict:
    out = clean({
        "id": c["id"],
        "url": c["url"],
        "title": c.get("title") or None,
        "description": c.get("description") or None,
        "coverArt": c["id"],
        "originalImageUrl": c.get("image_url") or None,
        "status": c["status"],
        "errorMessage": c.get("error") or None,
    })
    if episodes is not None:
        out["episode"] = [episode(e) for e in episodes]
    return out


@method("getPodcasts")
async def get_podcasts(call: Call) -> dict:
    include = call.bool("includeEpisodes", True)
    ident = call.get("id")
    try:
        chans = [await call.store.read(store.channel, ident)] if ident else await call.store.read(store.channels)
    except NotFound:
        raise not_found(f"podcast channel {ident!r}") from None
    out = []
    for c in chans:
        eps = await call.store.read(store.episodes, c["id"], call.uid) if include else None
        out.append(channel(c, eps))
    return {"podcasts": {"channel": out}}


@method("getNewestPodcasts")
async def get_newest_podcasts(call: Call) -> dict:
    count = call.int("count", 20, 0, 500)
    eps = await call.store.read(store.newest, count, call.uid)
    return {"newestPodcasts": {"episode": [episode(e) for e in eps]}}


@method("getPodcastEpisode")
async def get_podcast_episode(call: Call) -> dict:
    ident = call.require("id")
    try:
        e = await call.store.read(store.episode, ident, call.uid)
    except NotFound:
        raise not_found(f"podcast episode {ident!r}") from None
    return {"podcastEpisode": episode(e)}


@method("refreshPodcasts")
async def refresh_podcasts(call: Call) -> dict:
    _manager(call).refresh_soon()
    return {}


@method("createPodcastChannel")
async def create_podcast_channel(call: Call) -> dict:
    """The feed is fetched and read before the answer: a URL that is not a feed is error 0 with the reason."""
    await _manager(call).subscribe(call.require("url"))
    return {}


@method("deletePodcastChannel")
async def delete_podcast_channel(call: Call) -> dict:
    ident = call.require("id")
    try:
        await _manager(call).delete_channel(ident)
    except NotFound:
        raise not_found(f"podcast channel {ident!r}") from None
    return {}


@method("downloadPodcastEpisode")
async def download_podcast_episode(call: Call) -> dict:
    ident = call.require("id")
    try:
        await _manager(call).download(ident)
    except NotFound:
        raise not_found(f"podcast episode {ident!r}") from None
    return {}


@method("deletePodcastEpisode")
async def delete_podcast_episode(call: Call) -> dict:
    ident = call.require("id")
    try:
        await _manager(call).delete_episode(ident)
    except NotFound:
        raise not_found(f"podcast episode {ident!r}") from None
    return {}
