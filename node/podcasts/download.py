"""Fetching one episode's enclosure into its ``.part``, resuming when the host allows it.

A ``.part`` left by an earlier attempt (a node killed, a connection dropped) is continued with
``Range: bytes=N-`` and ``If-Range`` (the ETag or Last-Modified the first attempt saw): a host
that answers ``206`` from byte N continues it; any other answer (``200``, a changed file) restarts
it from nothing. The file is written by worker threads (``trio.open_file``), bounded in size, and
probed (mutagen, in a thread) before it gets its final name (see :mod:`.files`).
"""

from __future__ import annotations

from pathlib import Path

import httpx
import trio

from ..store import podcasts as store
from . import files
from .fetch import FetchError, get, media_type

ENCLOSURE_PREFIXES_REFUSED = ("text/", "image/", "video/", "application/json", "application/pdf",
                              "application/xml", "application/rss+xml", "application/atom+xml")


async def fetch_episode(client: httpx.AsyncClient, data_root: Path, ep: dict, settings: dict
                        ) -> tuple[str, int, str, float | None, int | None]:
    """(final file name, size, suffix, duration s, bitrate kbps) of the downloaded episode."""
    ckey, ekey = store.channel_key(ep["channel_id"]), store.episode_key(ep["id"])
    if not ep.get("url"):
        raise FetchError("the episode has no enclosure URL")
    part = files.part_path(data_root, ckey, ekey)
    await trio.to_thread.run_sync(lambda: part.parent.mkdir(parents=True, exist_ok=True))
    have = await trio.to_thread.run_sync(files.part_size, part)
    validators = await trio.to_thread.run_sync(files.read_validators, part)
    if validators.get("url") != ep["url"]:
        have = 0
    headers = {"Accept-Encoding": "identity"}  # byte offsets are the file's, so no transfer coding
    if have and validators.get("validator"):
        headers.update({"Range": f"bytes={have}-", "If-Range": validators["validator"]})
    limit = settings["max_episode_bytes"]
    async with get(client, ep["url"], same_host=False, headers=headers, within=ep.get("channel_url")) as resp:
        offset = _resume_offset(resp, have)
        _check(resp, offset, limit, ep["url"])
        validator = resp.headers.get("etag") if not resp.headers.get("etag", "W/").startswith("W/") else None
        validator = validator or resp.headers.get("last-modified")
        await trio.to_thread.run_sync(files.write_validators, part, {"url": ep["url"], "validator": validator})
        await _write(resp, part, offset, limit)
    suffix, duration, bitrate = await trio.to_thread.run_sync(_probe_or_discard, part)
    name = files.final_name(ekey, suffix)
    size = await trio.to_thread.run_sync(files.finish, part, files.channel_dir(data_root, ckey) / name)
    return name, size, suffix, duration, bitrate


def _resume_offset(resp: httpx.Response, have: int) -> int:
    """Where the body starts in the file: ``have`` for a 206 that continues it, else 0 (start again)."""
    if resp.status_code == 206 and have:
        content_range = resp.headers.get("content-range", "")
        if content_range.startswith(f"bytes {have}-"):
            return have
        raise FetchError(f"the host answered a range that does not continue the download ({content_range})")
    return 0


def _check(resp: httpx.Response, offset: int, limit: int, url: str) -> None:
    if resp.status_code not in (200, 206) or (resp.status_code == 206 and not offset):
        transient = resp.status_code >= 500 or resp.status_code in (408, 429)
        raise FetchError(f"the episode at {url} answered HTTP {resp.status_code}", transient=transient)
    kind = media_type(resp)
    if kind.startswith(ENCLOSURE_PREFIXES_REFUSED):
        raise FetchError(f"the episode at {url} answers {kind}, not audio")
    announced = resp.headers.get("content-length", "")
    if announced.isdigit() and offset + int(announced) > limit:
        raise FetchError(f"the episode is {(offset + int(announced)) // 2**20} MB, over the "
                         f"{limit // 2**20} MB this node downloads")


async def _write(resp: httpx.Response, part: Path, offset: int, limit: int) -> None:
    """Append (or rewrite, at offset 0) the body to the ``.part``, in worker threads; bounded. Bytes are
    written as they arrive (not held back to fill a chunk), so a dropped connection loses none."""
    size = offset
    async with await trio.open_file(part, "r+b" if offset else "wb") as f:
        if offset:
            await f.truncate(offset)
            await f.seek(offset)
        try:
            async for chunk in resp.aiter_raw():
                size += len(chunk)
                if size > limit:
                    raise FetchError(f"the episode is over the {limit // 2**20} MB this node downloads")
                await f.write(chunk)
        except httpx.HTTPError as exc:
            raise FetchError(f"the download stopped: {type(exc).__name__} {exc}".rstrip(), transient=True) from None
    if size == offset:
        raise FetchError("the host sent an empty file")


def _probe_or_discard(part: Path):
    try:
        return files.probe(part)
    except ValueError:
        files.discard_part(part)
        raise
