"""Podcasts while a node serves: subscribe, refresh on a schedule and on demand, download in the background.

:func:`run` is a background service (``daemon.background_services``). It sets ``node.podcasts`` to a
:class:`Podcasts`, which the APIs call, and runs two loops:

- **refresh**: every ``SETTINGS["check_s"]`` the channels not refreshed for ``refresh_every_s``
  are fetched again (one at a time), new episodes recorded, the newest ``download_count`` queued,
  the keep policy applied; a feed that fails marks its channel ``error`` with the reason and the
  others go on;
- **download**: one episode at a time, the oldest queued first (status ``downloading``, which is
  in the database: a node killed mid-download finds the episode still queued and resumes its
  ``.part`` with a Range request, or restarts it cleanly when the host cannot resume). Bytes are
  written by worker threads, never on the event loop; see :mod:`.files` for what is served.

Each pass catches and logs its own errors; ``Cancelled`` always propagates.
"""

from __future__ import annotations

import logging
import time

import httpx
import trio

from ..errors import InvalidInput, NotFound
from ..store import podcasts as store
from . import feed as feeds
from . import files
from .fetch import FetchError, check_url, get, media_type, read_bounded

log = logging.getLogger(__name__)

SETTINGS = {
    "refresh_every_s": 6 * 3600.0,  # a channel is fetched again this long after its last refresh
    "check_s": 300.0,  # how often the schedule is looked at
    "max_episode_bytes": 1024 * 1024 * 1024,  # one episode's file at most (1 GiB: hours of audio)
    "download_deadline_s": 3 * 3600.0,  # one download's whole time at most
    "retry_s": 60.0,  # a dropped download is tried again after this, doubling each time
    "attempts": 5,  # …this many times before it is an error
}
FEED_TYPES_REFUSED = ("text/html", "application/json", "application/pdf")
FEED_PREFIXES_REFUSED = ("image/", "audio/", "video/", "font/")


class FeedProblem(InvalidInput):
    """A feed that cannot be subscribed to or refreshed; the message says why, for a person."""


class Podcasts:
    """The podcast operations the APIs call while the node serves."""

    def __init__(self, node, client: httpx.AsyncClient) -> None:
        self.node = node
        self.client = client
        self.download_wake = trio.Event()
        self.refresh_wake = trio.Event()
        self.refresh_lock = trio.Lock()
        self.current: str | None = None  # the episode being downloaded

    @property
    def data_root(self):
        return self.node.data.root

    # -- subscribing and refreshing -------------------------------------------------------------------
    async def subscribe(self, url: str, keep_count: int | None = None, keep_days: int | None = None,
                        download_count: int | None = None) -> str:
        """Fetch and read the feed first: a URL that is not a readable feed is refused, nothing stored."""
        url = (url or "").strip()
        try:
            check_url(url)
        except FetchError as exc:
            raise FeedProblem(str(exc)) from None
        existing = await self.node.store.read(store.channel_by_url, url)
        if existing:
            return existing["id"]
        feed = await self._fetch_feed(url)
        ident = await self.node.store.write(store.create_channel, url, keep_count, keep_days, download_count)
        await self._record(ident, feed)
        return ident

    async def refresh(self, ident: str | None = None) -> None:
        """Refresh one channel (its failure is raised) or every channel (failures recorded per channel)."""
        if ident is not None:
            await self._refresh_one(ident, raise_errors=True)
            return
        for channel in await self.node.store.read(store.channels):
            await self._refresh_one(channel["id"], raise_errors=False)

    def refresh_soon(self) -> None:
        """Refresh every channel in the background (Subsonic ``refreshPodcasts`` answers at once)."""
        self.refresh_wake.set()

    async def _refresh_one(self, ident: str, raise_errors: bool) -> None:
        channel = await self.node.store.read(store.channel, ident)
        async with self.refresh_lock:
            try:
                feed = await self._fetch_feed(channel["url"])
            except FeedProblem as exc:
                await self.node.store.write(store.channel_failed, ident, str(exc), time.time())
                log.warning("podcast %s: %s", channel["url"], exc)
                if raise_errors:
                    raise
                return
            await self._record(ident, feed)

    async def _record(self, ident: str, feed: feeds.Feed) -> None:
        now = time.time()
        await self.node.store.write(store.update_channel, ident, feed, now)
        queued = await self.node.store.write(store.queue_newest, ident, now)
        await self.apply_policy(ident)
        if queued:
            self.download_wake.set()
        await self._fetch_cover(ident, feed.image_url)

    async def _fetch_feed(self, url: str) -> feeds.Feed:
        try:
            async with get(self.client, url, same_host=True) as resp:
                if resp.status_code != 200:
                    raise FeedProblem(f"the feed at {url} answered HTTP {resp.status_code}")
                kind = media_type(resp)
                if kind in FEED_TYPES_REFUSED or kind.startswith(FEED_PREFIXES_REFUSED):
                    raise FeedProblem(f"{url} answers {kind}, not an RSS or Atom feed")
                data = await read_bounded(resp, feeds.MAX_FEED, "the feed")
        except FetchError as exc:
            raise FeedProblem(str(exc)) from None
        try:
            return await trio.to_thread.run_sync(feeds.parse, data)
        except feeds.FeedError as exc:
            raise FeedProblem(f"{url}: {exc}") from None

    async def _fetch_cover(self, ident: str, image_url: str | None) -> None:
        """The channel's picture, fetched once per refresh, validated and re-encoded; a bad one is logged."""
        key = store.channel_key(ident)
        dest = files.cover_path(self.data_root, key)
        if not image_url:
            return
        try:
            channel = await self.node.store.read(store.channel, ident)
            async with get(self.client, image_url, same_host=False, within=channel["url"]) as resp:
                if resp.status_code != 200 or not media_type(resp).startswith("image/"):
                    raise FetchError(f"{image_url} answered {resp.status_code} {media_type(resp) or 'no type'}")
                data = await read_bounded(resp, files.COVER_MAX_SOURCE, "the channel's picture")
            await trio.to_thread.run_sync(files.store_cover, data, dest)
            await self.node.store.write(store.set_cover, ident, True)
        except (FetchError, ValueError, OSError) as exc:
            log.info("podcast %s: no picture: %s", ident, exc)
        except Exception as exc:  # Pillow on a hostile picture
            log.info("podcast %s: picture refused (%s)", ident, type(exc).__name__)

    # -- episodes -------------------------------------------------------------------------------------
    async def download(self, ident: str) -> dict:
        ep = await self.node.store.write(store.queue_download, ident, time.time())
        self.download_wake.set()
        return ep

    async def delete_episode(self, ident: str) -> None:
        ep = await self.node.store.write(store.delete_episode, ident)
        await self._remove_files(ep)

    async def delete_channel(self, ident: str) -> None:
        eps = await self.node.store.write(store.delete_channel, ident)
        key = store.channel_key(ident)
        for ep in eps:
            await trio.to_thread.run_sync(files.remove, files.channel_dir(self.data_root, key) / ep["file"])
        await trio.to_thread.run_sync(_remove_tree, files.channel_dir(self.data_root, key))
        await trio.to_thread.run_sync(files.remove, files.cover_path(self.data_root, key))

    async def apply_policy(self, ident: str) -> int:
        """Delete the completed episodes the channel's keep policy no longer keeps; how many."""
        removed = 0
        for ep in await self.node.store.read(store.expired, ident, time.time()):
            await self.node.store.write(store.delete_episode, ep["id"])
            await self._remove_files(ep)
            removed += 1
        return removed

    async def _remove_files(self, ep: dict) -> None:
        ckey, ekey = store.channel_key(ep["channel_id"]), store.episode_key(ep["id"])
        if ep.get("file"):
            await trio.to_thread.run_sync(files.remove, files.channel_dir(self.data_root, ckey) / ep["file"])
        await trio.to_thread.run_sync(files.discard_part, files.part_path(self.data_root, ckey, ekey))

    def episode_path(self, ep: dict) -> str:
        """The file of a completed episode (NotFound for any other: a ``.part`` is never served)."""
        if ep["status"] != "completed" or not ep.get("file"):
            raise NotFound(f"podcast episode {ep['id']} is not downloaded ({ep['status']})")
        try:
            return files.served_path(self.data_root, store.channel_key(ep["channel_id"]), ep["file"])
        except FileNotFoundError as exc:
            raise NotFound(str(exc)) from None

    # -- the loops ------------------------------------------------------------------------------------
    async def download_loop(self) -> None:
        while True:
            ep = await self.node.store.read(store.next_download, time.time())
            if ep is None:
                due = await self.node.store.read(store.next_download_at)
                with trio.move_on_after(max(0.05, due - time.time()) if due is not None else float("inf")):
                    await self.download_wake.wait()
                self.download_wake = trio.Event()
                continue
            self.current = ep["id"]
            try:
                await self._download(ep)
            except Exception:
                log.exception("podcast episode %s: download failed", ep["id"])
                await self.node.store.write(store.download_failed, ep["id"], "the node hit an unexpected error")
            finally:
                self.current = None

    async def _download(self, ep: dict) -> None:
        from .download import fetch_episode

        try:
            with trio.fail_after(SETTINGS["download_deadline_s"]):
                result = await fetch_episode(self.client, self.data_root, ep, SETTINGS)
        except (FetchError, ValueError, OSError, trio.TooSlowError) as exc:
            reason = str(exc) or "the download took too long"
            retry_at = None
            if getattr(exc, "transient", False) and ep["attempts"] + 1 < SETTINGS["attempts"]:
                retry_at = time.time() + SETTINGS["retry_s"] * 2 ** ep["attempts"]
            log.warning("podcast episode %s: %s%s", ep["id"], reason, " (will retry)" if retry_at else "")
            await self.node.store.write(store.download_failed, ep["id"], reason, retry_at)
            return
        name, size, suffix, duration, bitrate = result
        done = await self.node.store.write(store.download_done, ep["id"], name, size, suffix, bitrate, duration,
                                           time.time())
        if not done:  # deleted while it downloaded
            await trio.to_thread.run_sync(files.remove, files.channel_dir(self.data_root,
                                                                          store.channel_key(ep["channel_id"])) / name)
            return
        log.info("podcast episode %s downloaded (%d bytes)", ep["id"], size)
        await self.apply_policy(ep["channel_id"])
        self.node.bus.publish("podcasts.changed", {"episode": ep["id"]})

    async def refresh_loop(self) -> None:
        while True:
            try:
                for ident in await self.node.store.read(store.due_channels, time.time(), SETTINGS["refresh_every_s"]):
                    await self._refresh_one(ident, raise_errors=False)
            except NotFound:
                pass  # a channel deleted during the pass
            except Exception:
                log.exception("podcast refresh pass failed")
            with trio.move_on_after(SETTINGS["check_s"]):
                await self.refresh_wake.wait()
            if self.refresh_wake.is_set():
                self.refresh_wake = trio.Event()
                try:
                    await self.refresh()
                except Exception:
                    log.exception("podcast refresh failed")


def _remove_tree(path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)


async def run(node, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    """The podcasts service: sets ``node.podcasts`` while the node serves."""
    async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0), trust_env=False) as client:
        podcasts = Podcasts(node, client)
        node.podcasts = podcasts
        try:
            async with trio.open_nursery() as nursery:
                nursery.start_soon(podcasts.download_loop)
                nursery.start_soon(podcasts.refresh_loop)
                task_status.started()
        finally:
            node.podcasts = None
