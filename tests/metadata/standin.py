"""Stand-ins for the metadata providers: one hypercorn server on loopback, in a thread of its own.

Each provider lives under a prefix of the one server (``/mb`` MusicBrainz, ``/caa`` the Cover Art
Archive, ``/lrclib``, ``/wd`` Wikidata, ``/commons``, ``/wp`` Wikipedia), answering in the
providers' documented shapes from ``fixtures/`` (``{base}`` in a fixture becomes the server's
address). Every request is logged with its time; ``override`` makes a path answer otherwise
(an error, garbage, a slow or huge body, a redirect) for the hostile-answer tests.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, unquote

import trio

FIXTURES = Path(__file__).parent / "fixtures"
PREFIXES = {"musicbrainz": "/mb", "coverartarchive": "/caa", "lrclib": "/lrclib", "wikidata": "/wd",
            "commons": "/commons", "wikipedia": "/wp", "acoustid": "/acoustid"}


@dataclass
class Answer:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple = ()
    delay: float = 0.0
    drip: int = 0  # send the body in this many slow pieces


@dataclass
class Seen:
    path: str
    query: dict
    headers: dict
    at: float


@dataclass
class StandIn:
    routes: dict = field(default_factory=dict)  # path → Answer (or callable(Seen) → Answer)
    override: dict = field(default_factory=dict)  # path → Answer, wins over routes
    seen: list = field(default_factory=list)
    url: str = ""

    def settings(self) -> dict:
        """Config values pointing a node at this stand-in."""
        return {f"metadata_{name}_url": self.url + prefix for name, prefix in PREFIXES.items()}

    def count(self, provider: str | None = None) -> int:
        if provider is None:
            return len(self.seen)
        return sum(1 for s in self.seen if s.path.startswith(PREFIXES[provider] + "/"))

    def times(self, provider: str) -> list[float]:
        return [s.at for s in self.seen if s.path.startswith(PREFIXES[provider] + "/")]

    async def app(self, scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                msg = await receive()
                if msg["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        path = unquote(scope["path"])
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode()).items()}
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        seen = Seen(path, query, headers, time.monotonic())
        self.seen.append(seen)
        answer = self.override.get(path) or self.routes.get(path) or Answer(404, b'{"error": "Not Found"}')
        if callable(answer):
            answer = answer(seen)
        if answer.delay:
            await trio.sleep(answer.delay)
        hdrs = [(b"content-type", answer.content_type.encode())] + [(k.encode(), v.encode()) for k, v in answer.headers]
        await send({"type": "http.response.start", "status": answer.status, "headers": hdrs})
        if answer.drip:
            step = max(1, len(answer.body) // answer.drip)
            for i in range(0, len(answer.body), step):
                await send({"type": "http.response.body", "body": answer.body[i:i + step], "more_body": True})
                await trio.sleep(0.5)
            await send({"type": "http.response.body", "body": b""})
            return
        await send({"type": "http.response.body", "body": answer.body})

    # -- fixtures -----------------------------------------------------------
    def json(self, path: str, fixture: str, status: int = 200) -> None:
        text = (FIXTURES / fixture).read_text("utf-8").replace("{base}", self.url)
        self.routes[path] = Answer(status, text.encode())

    def image(self, path: str, data: bytes, content_type: str = "image/jpeg") -> None:
        self.routes[path] = Answer(200, data, content_type)


class Running:
    """A StandIn served on 127.0.0.1 by hypercorn in a thread; ``stop()`` makes it unreachable."""

    def __init__(self, standin: StandIn | None = None) -> None:
        self.standin = standin or StandIn()
        self._thread: threading.Thread | None = None
        self._token = None
        self._stop = None
        self.port = 0

    def start(self, port: int = 0) -> StandIn:
        from hypercorn.config import Config
        from hypercorn.trio import serve

        ready = threading.Event()
        holder: dict = {}

        async def main():
            self._stop = trio.Event()
            self._token = trio.lowlevel.current_trio_token()
            config = Config()
            config.bind = [f"127.0.0.1:{port}"]
            config.accesslog = None
            config.errorlog = None
            config.graceful_timeout = 0.2
            async with trio.open_nursery() as nursery:
                bound = await nursery.start(lambda task_status: serve(
                    self.standin.app, config, shutdown_trigger=self._stop.wait, task_status=task_status))
                holder["bound"] = bound
                ready.set()

        def run():
            try:
                trio.run(main)
            except BaseException as exc:
                holder["error"] = exc
                ready.set()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        ready.wait(20)
        if "error" in holder:
            raise holder["error"]
        url = holder["bound"][0]
        self.port = int(url.rsplit(":", 1)[1])
        self.standin.url = url
        return self.standin

    def stop(self) -> None:
        if self._thread is None:
            return
        trio.from_thread.run_sync(self._stop.set, trio_token=self._token)
        self._thread.join(20)
        self._thread = None


def body_json(obj) -> bytes:
    return json.dumps(obj).encode()
