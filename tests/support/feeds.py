"""A stand-in podcast host on loopback: real-shaped RSS 2.0 (iTunes namespace) and Atom feeds with small
generated audio enclosures, and hostile ones, served by hypercorn in a thread of its own.

``with feed_host(tmp) as host:`` gives ``host.url("/rss.xml")``. Audio answers ``Range`` like a
CDN. ``host.hold`` makes ``/audio/held.mp3`` send half its bytes and wait (``host.holding`` is set
then) until ``host.release`` is set, then drop the connection; every later request resumes with
``Range`` as a real host would. ``host.requests`` records (path, Range header) of every request.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass, field
from pathlib import Path

import trio
from hypercorn.config import Config as HConfig
from hypercorn.trio import serve

from tests.support.audio import jpeg, make_track

NS = 'xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd" xmlns:content="http://purl.org/rss/1.0/modules/content/"'


def rss(base: str, title: str = "Night Signals", items: list[dict] | None = None) -> str:
    items = items if items is not None else default_items(base)
    body = "".join(
        f"""<item><title>{i['title']}</title><guid isPermaLink="false">{i['guid']}</guid>
<pubDate>{i['date']}</pubDate><description><![CDATA[<p>{i.get('text', 'An episode')} <b>bold</b> &amp; more</p>]]></description>
<itunes:duration>{i.get('duration', '0:02')}</itunes:duration>
<enclosure url="{i['url']}" length="{i.get('length', 1000)}" type="{i.get('type', 'audio/mpeg')}"/></item>"""
        for i in items)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" {NS}><channel><title>{title}</title><link>{base}/</link>
<description>Radio from the night &amp; the small hours, 2 &lt; 3</description>
<itunes:author>Ana Noche</itunes:author><itunes:image href="{base}/cover.jpg"/>
<language>es</language>{body}</channel></rss>"""


def default_items(base: str) -> list[dict]:
    return [
        {"title": "Episode 3: Owls", "guid": "ep-3", "date": "Wed, 02 Dec 2026 08:00:00 +0000",
         "url": f"{base}/audio/ep3.mp3"},
        {"title": "Episode 2: Trains", "guid": "ep-2", "date": "Wed, 25 Nov 2026 08:00:00 +0000",
         "url": f"{base}/go/ep2.mp3"},  # through a redirect to another (loopback) host name, as trackers do
        {"title": "Episode 1: Rain", "guid": "ep-1", "date": "Wed, 18 Nov 2026 08:00:00 GMT",
         "url": f"{base}/audio/ep1.mp3"},
        {"title": "Show notes (PDF)", "guid": "notes", "date": "Tue, 17 Nov 2026 08:00:00 GMT",
         "url": f"{base}/notes.pdf", "type": "application/pdf"},
        {"title": "Local file", "guid": "local", "date": "Mon, 16 Nov 2026 08:00:00 GMT",
         "url": "file:///etc/passwd"},
    ]


def atom(base: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Atom Hour</title><subtitle>Talk in Atom</subtitle>
<id>urn:uuid:atom-hour</id><updated>2026-11-30T10:00:00Z</updated><author><name>Bo Atom</name></author>
<logo>{base}/cover.jpg</logo>
<entry><title>Atom two</title><id>urn:atom:2</id><published>2026-11-30T10:00:00Z</published>
<summary>Second</summary><link rel="enclosure" href="{base}/audio/a2.ogg" type="audio/ogg" length="5000"/></entry>
<entry><title>Atom one</title><id>urn:atom:1</id><published>2026-11-20T10:00:00Z</published>
<summary>First</summary><link rel="enclosure" href="{base}/audio/a1.ogg" type="audio/ogg" length="5000"/></entry>
</feed>"""


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol9 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">]>
<rss version="2.0"><channel><title>&lol9;</title></channel></rss>"""


@dataclass
class FeedHost:
    base: str = ""
    alt: str = ""  # the same server under another host name (localhost)
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    requests: list[tuple[str, str | None]] = field(default_factory=list)
    hold: bool = False
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    held_once: bool = False

    def url(self, path: str) -> str:
        return self.base + path

    def set(self, path: str, body: bytes | str, kind: str) -> None:
        self.files[path] = (body.encode() if isinstance(body, str) else body, kind)


async def _send(send, status: int, headers: list[tuple[str, str]], body: bytes = b"", more: bool = False):
    await send({"type": "http.response.start", "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in headers]})
    await send({"type": "http.response.body", "body": body, "more_body": more})


def make_app(host: FeedHost):
    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"]
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        host.requests.append((path, headers.get("range")))
        if path == "/huge.xml":  # an endless feed, no Content-Length
            await _send(send, 200, [("content-type", "application/rss+xml")], b"<rss><channel>", more=True)
            for _ in range(200):
                await send({"type": "http.response.body", "body": b"<item><title>x</title></item>" * 4000,
                            "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        if path.startswith("/redirect/"):
            target = {"same": "/rss.xml", "away": host.alt + "/rss.xml", "file": "file:///etc/passwd",
                      "ftp": "ftp://127.0.0.1/feed.xml", "loop": "/redirect/loop"}[path.rsplit("/", 1)[1]]
            await _send(send, 302, [("location", target), ("content-length", "0")])
            return
        if path.startswith("/go/"):  # a tracker: the enclosure lives on another host name
            await _send(send, 302, [("location", host.alt + "/audio/" + path[4:]), ("content-length", "0")])
            return
        if path not in host.files:
            await _send(send, 404, [("content-type", "text/plain")], b"not found")
            return
        body, kind = host.files[path]
        if path == "/audio/held.mp3" and host.hold and not host.held_once:
            host.held_once = True
            await _send(send, 200, [("content-type", kind), ("content-length", str(len(body))),
                                    ("etag", '"held-1"')], body[: len(body) // 2], more=True)
            host.holding.set()
            await trio.to_thread.run_sync(host.release.wait)
            raise ConnectionAbortedError("the stand-in host drops the connection mid-body")
        start = 0
        rng = headers.get("range", "")
        if rng.startswith("bytes=") and rng.endswith("-") and kind.startswith("audio/"):
            start = int(rng[6:-1])
            if headers.get("if-range", '"held-1"') != '"held-1"':
                start = 0
        common = [("content-type", kind), ("etag", '"held-1"'), ("accept-ranges", "bytes")]
        if start:
            await _send(send, 206, common + [("content-range", f"bytes {start}-{len(body) - 1}/{len(body)}"),
                                             ("content-length", str(len(body) - start))], body[start:])
        else:
            await _send(send, 200, common + [("content-length", str(len(body)))], body)

    return app


def audio_files(tmp: Path) -> dict[str, bytes]:
    out = {}
    for name, fmt, seconds, seed in (("ep1.mp3", "mp3", 2, 11), ("ep2.mp3", "mp3", 2, 12), ("ep3.mp3", "mp3", 3, 13),
                                     ("held.mp3", "mp3", 4, 14), ("a1.ogg", "ogg", 1, 15), ("a2.ogg", "ogg", 1, 16)):
        path = make_track(tmp / name, fmt, {"title": name}, seconds=seconds, seed=seed)
        out[name] = path.read_bytes()
    return out


@contextlib.contextmanager
def feed_host(tmp: Path):
    """The stand-in host, serving until the block ends."""
    host = FeedHost()
    ready = threading.Event()
    holder: dict = {}

    async def main():
        cfg = HConfig()
        cfg.bind = ["127.0.0.1:0"]
        cfg.graceful_timeout = 0.1
        stop = trio.Event()
        holder["stop"], holder["token"] = stop, trio.lowlevel.current_trio_token()
        async with trio.open_nursery() as nursery:
            urls = await nursery.start(lambda task_status: serve(make_app(host), cfg, task_status=task_status,
                                                                 shutdown_trigger=stop.wait))
            host.base = urls[0]
            host.alt = urls[0].replace("127.0.0.1", "localhost")
            ready.set()

    thread = threading.Thread(target=lambda: trio.run(main), daemon=True)
    thread.start()
    ready.wait(30)
    base = host.base
    for name, data in audio_files(tmp).items():
        host.set(f"/audio/{name}", data, "audio/ogg" if name.endswith(".ogg") else "audio/mpeg")
    host.set("/rss.xml", rss(base), "application/rss+xml; charset=utf-8")
    host.set("/atom.xml", atom(base), "application/atom+xml")
    host.set("/cover.jpg", jpeg(300), "image/jpeg")
    host.set("/notes.pdf", b"%PDF-1.4 not audio", "application/pdf")
    host.set("/bomb.xml", BILLION_LAUGHS, "application/xml")
    host.set("/page.html", "<html><body>Subscribe!</body></html>", "text/html")
    host.set("/not-a-feed.xml", "<html><body>hi</body></html>", "application/xml")
    try:
        yield host
    finally:
        host.release.set()
        trio.from_thread.run_sync(holder["stop"].set, trio_token=holder["token"])
        thread.join(10)
