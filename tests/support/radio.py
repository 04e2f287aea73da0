"""A stand-in internet radio station on loopback: hypercorn serving a generated stream the way Icecast does.

``/live.mp3`` (audio/mpeg) and ``/live.ogg`` (audio/ogg, Vorbis) send a generated piece over and over,
without a Content-Length, paced a little faster than real time, for as long as the listener stays (up
to ``LOOPS`` rounds); ``/moved.mp3`` redirects to ``/live.mp3``; ``/page.html`` is a web page, not a
stream. ``listeners`` counts the requests each path got (what a test checks to see who fetched it).
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from pathlib import Path

import trio

from .audio import tone, write_audio

LOOPS = 20
CHUNK = 8192


def make_streams(folder: Path) -> dict[str, tuple[bytes, str, float]]:
    """{path: (bytes of one round, content type, seconds of one round)}."""
    out = {}
    for name, fmt, kind in (("live.mp3", "mp3", "audio/mpeg"), ("live.ogg", "ogg", "audio/ogg")):
        path = folder / name
        write_audio(path, fmt, tone(8.0, sr=22050, channels=1, seed=7), sr=22050)
        out["/" + name] = (path.read_bytes(), kind, 8.0)
    return out


class StationApp:
    """A raw ASGI app (no framework: the station must look like a plain streaming server)."""

    def __init__(self, streams: dict[str, tuple[bytes, str, float]]) -> None:
        self.streams = streams
        self.listeners: Counter = Counter()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = scope["path"]
        self.listeners[path] += 1
        if path == "/moved.mp3":
            await send({"type": "http.response.start", "status": 302, "headers": [(b"location", b"/live.mp3")]})
            await send({"type": "http.response.body", "body": b""})
            return
        if path == "/page.html":
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
            await send({"type": "http.response.body", "body": b"<p>not a stream</p>"})
            return
        if path not in self.streams:
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        data, kind, seconds = self.streams[path]
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", kind.encode()), (b"cache-control", b"no-cache"), (b"icy-name", b"Stand-in FM")]})
        pause = seconds / max(1, len(data) // CHUNK) / 4  # four times real time: the player never starves
        for _ in range(LOOPS):
            for i in range(0, len(data), CHUNK):
                await send({"type": "http.response.body", "body": data[i:i + CHUNK], "more_body": True})
                await trio.sleep(pause)
        await send({"type": "http.response.body", "body": b""})


@contextlib.contextmanager
def station(folder: Path):
    """Run the stand-in station in a thread of its own; yields (base URL, app)."""
    from sonantica.node.streaming.testing import serve_app

    app = StationApp(make_streams(folder))
    holder: dict = {}
    ready = threading.Event()

    async def main() -> None:
        async with trio.open_nursery() as nursery:
            holder["cancel"], holder["token"] = nursery.cancel_scope, trio.lowlevel.current_trio_token()
            holder["url"] = await nursery.start(serve_app, app)
            ready.set()

    def run() -> None:
        try:
            trio.run(main)
        except BaseException as exc:  # surfaced below
            holder["error"] = exc
            ready.set()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(30)
    if "error" in holder:
        raise holder["error"]
    try:
        yield holder["url"], app
    finally:
        trio.from_thread.run_sync(holder["cancel"].cancel, trio_token=holder["token"])
        thread.join(10)
