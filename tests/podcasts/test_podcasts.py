"""Podcasts on a real node against a stand-in podcast host on loopback (tests/support/feeds.py).

Subscribing by RSS and Atom, background downloads (also through a cross-host redirect), playing with
Range, keep policy, played marks, deleting; hostile feeds refused with a reason and nothing stored;
an aborted download is never served half and resumes with a Range request; a node stopped
mid-download resumes it when it starts again. Every Subsonic answer is checked by the oracle.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from sonantica.node.podcasts import service
from tests.subsonic.conftest import app_password
from tests.subsonic.harness import Sub, node_in_thread
from tests.support.aio import run_asyncio
from tests.support.audio import make_track
from tests.support.feeds import default_items, feed_host, rss
from tests.support.node import PASSWORD, init_node


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    with feed_host(tmp_path_factory.mktemp("feeds")) as h:
        yield h


@pytest.fixture(scope="module")
def fast_retries():
    saved = dict(service.SETTINGS)
    service.SETTINGS.update(retry_s=0.2, check_s=0.1)  # the schedule is looked at often; channels are not due
    yield
    service.SETTINGS.clear()
    service.SETTINGS.update(saved)


def _init(root):
    music = root / "music"
    make_track(music / "a.flac", "flac", {"title": "Song", "artist": "A", "album": "B"}, seed=1)
    return init_node(root / "node", music, users={"owner": "owner", "lis": "listener"})


@pytest.fixture(scope="module")
def node(tmp_path_factory, fast_retries):
    with node_in_thread(_init(tmp_path_factory.mktemp("podnode"))) as running:
        yield running


@pytest.fixture(scope="module")
def owner(node):
    return Sub(node.url, "owner", app_password(node, "owner"))


@pytest.fixture(scope="module")
def listener(node):
    return Sub(node.url, "lis", app_password(node, "lis"))


@pytest.fixture(scope="module")
def web(node):
    with httpx.Client(base_url=node.url, timeout=30) as c:
        assert c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD}).status_code == 200
        yield c


def channels(sub: Sub, **params) -> list[dict]:
    return sub.json("getPodcasts", params)["podcasts"].get("channel", [])


def by_url(sub: Sub, url: str) -> dict:
    found = [c for c in channels(sub) if c["url"] == url]
    assert found, f"no channel {url}"
    return found[0]


def wait_episode(sub: Sub, ident: str, status: str = "completed", timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        ep = sub.json("getPodcastEpisode", {"id": ident})["podcastEpisode"]
        if ep["status"] == status:
            return ep
        assert time.monotonic() < deadline, f"episode {ident} is {ep['status']} ({ep}), not {status}"
        time.sleep(0.05)


def test_rss_subscription_downloads_the_newest_episode_and_plays_it_with_range(owner, listener, host, node):
    owner.json("createPodcastChannel", {"url": host.url("/rss.xml")})
    channel = by_url(owner, host.url("/rss.xml"))
    assert channel["title"] == "Night Signals" and channel["status"] == "completed"
    assert channel["description"] == "Radio from the night & the small hours, 2 < 3"  # text, entities decoded once
    eps = {e["title"]: e for e in channel["episode"]}
    assert list(eps) == ["Episode 3: Owls", "Episode 2: Trains", "Episode 1: Rain", "Show notes (PDF)", "Local file"]
    assert eps["Show notes (PDF)"]["status"] == "skipped" and eps["Local file"]["status"] == "skipped"
    assert eps["Episode 1: Rain"]["status"] == "new" and "streamId" not in eps["Episode 1: Rain"]
    assert eps["Episode 1: Rain"]["description"] == "An episode bold & more"  # markup removed
    assert eps["Episode 1: Rain"]["publishDate"] == "2026-11-18T08:00:00.000Z"

    newest = wait_episode(owner, eps["Episode 3: Owls"]["id"])  # download_count 1: the newest is fetched alone
    assert newest["streamId"] == newest["id"] and newest["suffix"] == "mp3" and newest["contentType"] == "audio/mpeg"
    assert newest["channelId"] == channel["id"] and newest["type"] == "podcast" and newest["duration"] == 3
    original = host.files["/audio/ep3.mp3"][0]
    assert newest["size"] == len(original)
    # any user plays it: whole, a range, a download; XML validates against the XSD too
    assert listener.raw("stream", {"id": newest["streamId"]}, fmt="").content == original
    r = listener.http.get("/rest/stream", params={**listener.auth(), "v": "1.16.1", "c": "t", "id": newest["id"]},
                          headers={"Range": "bytes=100-199"})
    assert r.status_code == 206 and r.content == original[100:200]
    assert owner.raw("download", {"id": newest["id"]}, fmt="").content == original
    listener.xml("getPodcasts")
    listener.xml("getNewestPodcasts")
    listener.xml("getPodcastEpisode", {"id": newest["id"]})
    # the channel's picture, validated and re-encoded by the node
    art = listener.raw("getCoverArt", {"id": channel["id"], "size": 64}, fmt="")
    assert art.headers["content-type"] == "image/jpeg" and art.content[:2] == b"\xff\xd8"
    assert listener.raw("getCoverArt", {"id": newest["id"]}, fmt="").content[:2] == b"\xff\xd8"
    # not yet downloaded: not playable
    assert listener.error("stream", {"id": eps["Episode 1: Rain"]["id"]})["code"] == 70
    newest_list = listener.json("getNewestPodcasts", {"count": 2})["newestPodcasts"]["episode"]
    assert [e["title"] for e in newest_list] == ["Episode 3: Owls", "Episode 2: Trains"]
    # without episodes, and one channel by id
    assert "episode" not in channels(listener, includeEpisodes="false")[0]
    assert [c["id"] for c in channels(listener, id=channel["id"])] == [channel["id"]]
    assert listener.error("getPodcasts", {"id": "pc-999"})["code"] == 70
    assert listener.error("getPodcastEpisode", {"id": "pe-999"})["code"] == 70
    # subscribing twice keeps one channel
    owner.json("createPodcastChannel", {"url": host.url("/rss.xml")})
    assert len([c for c in channels(owner) if c["url"] == host.url("/rss.xml")]) == 1


def test_only_podcast_admins_change_podcasts(owner, listener, host):
    assert owner.json("getUser", {"username": "owner"})["user"]["podcastRole"] is True
    assert listener.json("getUser", {"username": "lis"})["user"]["podcastRole"] is False
    for method, params in (("createPodcastChannel", {"url": host.url("/atom.xml")}), ("refreshPodcasts", {}),
                           ("deletePodcastChannel", {"id": "pc-1"}), ("downloadPodcastEpisode", {"id": "pe-1"}),
                           ("deletePodcastEpisode", {"id": "pe-1"})):
        assert listener.error(method, params)["code"] == 50, method
    assert all(c["url"] != host.url("/atom.xml") for c in channels(owner))
    assert "getPodcastEpisode" in {e["name"] for e in owner.json("getOpenSubsonicExtensions")["openSubsonicExtensions"]}


def test_downloads_on_demand_through_a_tracker_redirect_and_the_keep_policy(owner, host, web, node):
    channel = by_url(owner, host.url("/rss.xml"))
    eps = {e["title"]: e for e in channel["episode"]}
    r = web.patch(f"/api/v1/podcasts/{channel['id']}", json={"keep_count": 2})
    assert r.status_code == 200 and r.json()["keep_count"] == 2
    owner.json("downloadPodcastEpisode", {"id": eps["Episode 2: Trains"]["id"]})
    two = wait_episode(owner, eps["Episode 2: Trains"]["id"])  # /go/ep2.mp3 → localhost: another host name
    assert owner.raw("stream", {"id": two["streamId"]}, fmt="").content == host.files["/audio/ep2.mp3"][0]
    assert ("/go/ep2.mp3", None) in host.requests
    # a third download: the policy keeps the newest two (3 and 2); episode 1 is removed once fetched
    owner.json("downloadPodcastEpisode", {"id": eps["Episode 1: Rain"]["id"]})
    wait_episode(owner, eps["Episode 1: Rain"]["id"], "deleted")
    statuses = {e["title"]: e["status"] for e in by_url(owner, host.url("/rss.xml"))["episode"]}
    assert statuses["Episode 3: Owls"] == statuses["Episode 2: Trains"] == "completed"
    folder = node.data.root / "podcasts" / channel["id"][3:]
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{eps[t]['id'][3:]}.mp3" for t in
                                                               ("Episode 3: Owls", "Episode 2: Trains"))
    # a non-audio enclosure is refused, with the reason
    assert owner.error("downloadPodcastEpisode", {"id": eps["Show notes (PDF)"]["id"]})["code"] == 0


def test_played_marks_are_per_user(owner, listener, host, web):
    ep = by_url(owner, host.url("/rss.xml"))["episode"][0]
    listener.json("scrobble", {"id": ep["id"]})
    assert "played" in listener.json("getPodcastEpisode", {"id": ep["id"]})["podcastEpisode"]
    assert "played" not in owner.json("getPodcastEpisode", {"id": ep["id"]})["podcastEpisode"]
    r = web.put(f"/api/v1/podcasts/episodes/{ep['id']}/played", json={"played": True})
    assert r.status_code == 200 and r.json()["played"] is True
    assert web.put(f"/api/v1/podcasts/episodes/{ep['id']}/played", json={"played": False}).json()["played"] is False
    listener.json("reportPlayback", {"mediaId": ep["id"], "mediaType": "podcast", "positionMs": 2900,
                                     "state": "stopped"})
    assert owner.error("reportPlayback", {"mediaId": "pe-999", "mediaType": "podcast", "positionMs": 0,
                                          "state": "stopped"})["code"] == 70


def test_episodes_resume_from_bookmarks(owner, listener, host, web):
    """The same resume positions as songs (Subsonic bookmarks, native /bookmarks), per user."""
    ep = by_url(owner, host.url("/rss.xml"))["episode"][0]
    listener.json("createBookmark", {"id": ep["id"], "position": 1500, "comment": "halfway"})
    [mark] = [b for b in listener.json("getBookmarks")["bookmarks"]["bookmark"] if b["entry"]["id"] == ep["id"]]
    assert mark["position"] == 1500 and mark["entry"]["channelId"] == ep["channelId"]
    assert mark["entry"]["bookmarkPosition"] == 1500
    listener.xml("getBookmarks")
    assert all(b["entry"]["id"] != ep["id"] for b in owner.json("getBookmarks")["bookmarks"].get("bookmark", []))
    r = web.put(f"/api/v1/bookmarks/{ep['id']}", json={"position_ms": 2000})
    assert r.status_code == 200 and r.json()["episode"]["id"] == ep["id"]
    assert web.get("/api/v1/bookmarks", params={"media_id": ep["id"]}).json()["items"][0]["position_ms"] == 2000
    assert web.put("/api/v1/bookmarks/pe-999", json={"position_ms": 1}).status_code == 404
    assert owner.error("createBookmark", {"id": "pe-999", "position": 1})["code"] == 70


def test_atom_feed(owner, host, web):
    r = web.post("/api/v1/podcasts", json={"url": host.url("/atom.xml"), "keep_days": 3650})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["title"] == "Atom Hour" and body["author"] == "Bo Atom" and body["keep_days"] == 3650
    assert [e["title"] for e in body["items"]] == ["Atom two", "Atom one"]
    ep = wait_episode(owner, body["items"][0]["id"])
    assert ep["suffix"] == "ogg"
    r = web.get(f"/api/v1/podcasts/episodes/{ep['id']}/stream", headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == host.files["/audio/a2.ogg"][0][:10]
    newest = web.get("/api/v1/podcasts/episodes/newest", params={"count": 1}).json()["items"]
    assert newest[0]["title"] == "Episode 3: Owls"


def wait_title(sub: Sub, url: str, title: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = [e for e in by_url(sub, url)["episode"] if e["title"] == title]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no episode {title!r} in {url}"
        time.sleep(0.05)


def test_feeds_are_refreshed_on_demand_and_on_schedule(owner, host):
    base, url = host.base, host.url("/rss.xml")
    dawn = {"title": "Episode 4: Dawn", "guid": "ep-4", "date": "Thu, 03 Dec 2026 08:00:00 GMT",
            "url": f"{base}/audio/ep1.mp3"}
    host.set("/rss.xml", rss(base, items=[dawn] + default_items(base)), "application/rss+xml")
    owner.json("refreshPodcasts")  # answers at once; the refresh runs in the background
    ep = wait_title(owner, url, "Episode 4: Dawn")
    wait_episode(owner, ep["id"])  # the newest new episode is downloaded by itself (download_count 1)
    assert len(by_url(owner, url)["episode"]) == 6  # known episodes are not duplicated
    dusk = {**dawn, "title": "Episode 5: Dusk", "guid": "ep-5", "date": "Fri, 04 Dec 2026 08:00:00 GMT"}
    host.set("/rss.xml", rss(base, items=[dusk, dawn] + default_items(base)), "application/rss+xml")
    service.SETTINGS["refresh_every_s"] = 0.0  # every channel is due: the schedule refreshes it, unasked
    try:
        wait_title(owner, url, "Episode 5: Dusk")
    finally:
        service.SETTINGS["refresh_every_s"] = 6 * 3600.0


@pytest.mark.parametrize("path, reason", [
    ("/bomb.xml", "entities"),
    ("/huge.xml", "over the"),
    ("/page.html", "text/html"),
    ("/not-a-feed.xml", "not an RSS or Atom feed"),
    ("/redirect/away", "redirects to another host"),
    ("/redirect/file", "only http and https"),
    ("/redirect/ftp", "only http and https"),
    ("/redirect/loop", "more than 5 redirects"),
    ("/missing.xml", "HTTP 404"),
])
def test_hostile_or_broken_feeds_are_refused_with_the_reason_and_nothing_is_stored(owner, web, host, path, reason):
    before = channels(owner, includeEpisodes="false")
    error = owner.error("createPodcastChannel", {"url": host.url(path)})
    assert error["code"] == 0 and reason in error["message"], error
    r = web.post("/api/v1/podcasts", json={"url": host.url(path)})
    assert r.status_code == 400 and reason in r.json()["error"]["message"]
    assert channels(owner, includeEpisodes="false") == before


def test_hostile_enclosures_end_in_error_with_the_reason_and_leave_no_file(owner, host, web, node):
    base = host.base
    host.set("/audio/garbage.mp3", b"\xff\xfb" + b"not audio at all" * 500, "audio/mpeg")
    cases = {"Paywall": (f"{base}/page.html", "answers text/html, not audio"),
             "Garbage": (f"{base}/audio/garbage.mp3", "not readable audio"),
             "Into a file": (f"{base}/redirect/file", "only http and https"),
             "Too big": (f"{base}/audio/ep2.mp3", "over the")}
    items = [{"title": t, "guid": t, "date": f"Mon, {10 + i:02d} Nov 2026 08:00:00 GMT", "url": u}
             for i, (t, (u, _)) in enumerate(cases.items())]
    host.set("/bad.xml", rss(base, "Bad enclosures", items), "application/rss+xml")
    r = web.post("/api/v1/podcasts", json={"url": host.url("/bad.xml"), "download_count": 0})
    assert r.status_code == 201, r.text
    channel = r.json()
    assert {e["status"] for e in channel["items"]} == {"new"}  # nothing downloaded unasked
    ids = {e["title"]: e["id"] for e in channel["items"]}
    saved = service.SETTINGS["max_episode_bytes"]
    for title, (_, reason) in cases.items():
        service.SETTINGS["max_episode_bytes"] = 1000 if title == "Too big" else saved
        try:
            assert web.post(f"/api/v1/podcasts/episodes/{ids[title]}/download").status_code == 202
            wait_episode(owner, ids[title], "error")
        finally:
            service.SETTINGS["max_episode_bytes"] = saved
        error = web.get(f"/api/v1/podcasts/episodes/{ids[title]}").json()["error"]
        assert reason in error, (title, error)
        assert owner.error("stream", {"id": ids[title]})["code"] == 70
    folder = node.data.root / "podcasts" / channel["id"][3:]
    assert not folder.exists() or list(folder.iterdir()) == []


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x.xml", "javascript:alert(1)", "/rss.xml"])
def test_only_http_feed_addresses(owner, url):
    assert "only http and https" in owner.error("createPodcastChannel", {"url": url})["message"]


def test_an_aborted_download_is_never_served_and_resumes_with_a_range(owner, host, node):
    base = host.base
    host.set("/held.xml", rss(base, "Held", [{"title": "Long one", "guid": "held", "url": f"{base}/audio/held.mp3",
                                              "date": "Thu, 03 Dec 2026 08:00:00 GMT"}]), "application/rss+xml")
    host.hold, host.held_once = True, False
    host.holding.clear(), host.release.clear()
    owner.json("createPodcastChannel", {"url": host.url("/held.xml")})
    assert host.holding.wait(20)
    ep = by_url(owner, host.url("/held.xml"))["episode"][0]
    assert ep["status"] == "downloading" and "streamId" not in ep and "size" not in ep
    assert owner.error("stream", {"id": ep["id"]})["code"] == 70  # half a file is never served
    part = node.data.root / "podcasts" / ep["channelId"][3:] / f"{ep['id'][3:]}.part"
    assert part.exists()
    host.release.set()  # the host drops the connection mid-body; the node retries with a Range
    done = wait_episode(owner, ep["id"])
    original = host.files["/audio/held.mp3"][0]
    assert owner.raw("stream", {"id": done["streamId"]}, fmt="").content == original
    ranges = [r for p, r in host.requests if p == "/audio/held.mp3"]
    assert ranges[0] is None and ranges[-1] == f"bytes={len(original) // 2}-"
    assert not part.exists()
    # deleting the episode removes its file; deleting the channel removes the rest
    owner.json("deletePodcastEpisode", {"id": ep["id"]})
    assert owner.json("getPodcastEpisode", {"id": ep["id"]})["podcastEpisode"]["status"] == "deleted"
    assert owner.error("stream", {"id": ep["id"]})["code"] == 70
    owner.json("deletePodcastChannel", {"id": ep["channelId"]})
    assert not (node.data.root / "podcasts" / ep["channelId"][3:]).exists()
    assert owner.error("getPodcasts", {"id": ep["channelId"]})["code"] == 70


def test_an_independent_client_library_drives_podcasts(node, host):
    """py-opensonic (from PyPI), as an app would: subscribe, list, download, play, resume, delete."""
    import asyncio
    from urllib.parse import urlsplit

    libopensonic = pytest.importorskip("libopensonic")
    base = host.base
    host.set("/lib.xml", rss(base, "Library Hour", default_items(base)[:3]), "application/rss+xml")

    async def flow():
        url = urlsplit(node.url)
        conn = libopensonic.AsyncConnection(f"{url.scheme}://{url.hostname}", port=url.port, app_name="py-opensonic",
                                            username="owner", password=app_password(node, "owner"))
        assert await conn.create_podcast_channel(host.url("/lib.xml"))
        [channel] = [c for c in await conn.get_podcasts() if c.url == host.url("/lib.xml")]
        assert channel.title == "Library Hour" and [e.title for e in channel.episode][0] == "Episode 3: Owls"
        newest, oldest = channel.episode[0], channel.episode[-1]
        assert await conn.download_podcast_episode(oldest.id)
        deadline = time.monotonic() + 20
        status = lambda e: getattr(e.status, "value", e.status)  # noqa: E731  (the library gives an enum)
        while status(ep := await conn.get_podcast_episode(oldest.id)) != "completed":
            assert time.monotonic() < deadline, ep
            await asyncio.sleep(0.05)
        data = await (await conn.stream(ep.stream_id)).read()
        assert data == host.files["/audio/ep1.mp3"][0]
        assert oldest.id in {e.id for e in await conn.get_newest_podcasts(count=50)}
        assert await conn.create_bookmark(oldest.id, 1200)
        assert [b.position for b in await conn.get_bookmarks() if b.entry.id == oldest.id] == [1200]
        assert await conn.delete_podcast_episode(oldest.id)
        assert status(await conn.get_podcast_episode(oldest.id)) == "deleted"
        assert await conn.refresh_podcasts()
        assert await conn.create_bookmark(newest.id, 500)
        assert await conn.delete_podcast_channel(channel.id)  # its episodes' bookmarks go with it
        assert all(c.id != channel.id for c in await conn.get_podcasts(inc_episodes=False))
        assert newest.id not in {b.entry.id for b in await conn.get_bookmarks()}
        await conn.cleanup()

    run_asyncio(flow)


def _serve(data, port: int, log) -> subprocess.Popen:
    """``sonantica serve`` in a process of its own (so that it can be killed with SIGKILL)."""
    proc = subprocess.Popen([str(Path(sys.executable).with_name("sonantica")), "--data", str(data.root), "serve",
                             "--bind", f"127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, "sonantica serve exited"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "sonantica serve did not answer"
        time.sleep(0.1)


def test_a_node_killed_mid_download_resumes_it_when_it_starts_again(tmp_path, host, fast_retries):
    """kill -9 while an episode downloads: nothing half is served, and the next start finishes it."""
    base = host.base
    host.set("/held2.xml", rss(base, "Held again", [{"title": "Again", "guid": "again", "url": f"{base}/audio/held.mp3",
                                                     "date": "Thu, 03 Dec 2026 08:00:00 GMT"}]), "application/rss+xml")
    host.hold, host.held_once = True, False
    host.holding.clear(), host.release.clear()
    data = _init(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = (tmp_path / "serve.log").open("ab")
    proc = _serve(data, port, log)
    try:
        with httpx.Client(base_url=url, timeout=30) as c:
            assert c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD}).status_code == 200
            channel = c.post("/api/v1/podcasts", json={"url": host.url("/held2.xml")}).json()
            assert host.holding.wait(20)
            ep = channel["items"][0]
            assert c.get(f"/api/v1/podcasts/episodes/{ep['id']}/stream").status_code == 404  # half is never served
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    host.release.set()
    part = data.root / "podcasts" / ep["channel_id"][3:] / f"{ep['id'][3:]}.part"
    assert part.exists()
    host.requests.clear()
    with node_in_thread(data) as second:  # started again (in this process: quicker than a second serve)
        sub = Sub(second.url, "owner", app_password(second, "owner"))
        done = wait_episode(sub, ep["id"])
        assert sub.raw("download", {"id": done["id"]}, fmt="").content == host.files["/audio/held.mp3"][0]
    # what reached the disk before the kill was kept and continued with a Range (had nothing reached
    # it, it would be fetched again from the start): either way one more request makes the file whole
    assert [p for p, _ in host.requests].count("/audio/held.mp3") == 1
    assert not part.exists()
