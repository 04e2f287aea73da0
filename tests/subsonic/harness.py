"""One real node per test module, in a thread of its own, and a Subsonic client for it.

pytest-trio runs each test in a fresh trio loop, so a module-scoped node runs
its own ``trio.run`` in a thread; tests talk to it over loopback with httpx
(sync) or a client library, exactly as an app would.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading

import httpx
import trio

from sonantica.node import daemon
from tests.support.node import running_node

from .oracle import check_json, check_xml


async def _no_signals(scope):  # signal handlers need the main thread; the fixture stops the node
    await trio.sleep_forever()


@contextlib.contextmanager
def node_in_thread(data, **overrides):
    ready = threading.Event()
    holder: dict = {}

    async def main():
        stop = trio.Event()
        holder["stop"], holder["token"] = stop, trio.lowlevel.current_trio_token()
        async with running_node(data, **overrides) as node:
            holder["node"] = node
            ready.set()
            await stop.wait()

    def run():
        try:
            trio.run(main)
        except BaseException as exc:  # surfaced to the test below
            holder["error"] = exc
            ready.set()

    original = daemon._stop_on_signal
    daemon._stop_on_signal = _no_signals
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        ready.wait(60)
        if "error" in holder:
            raise holder["error"]
        yield holder["node"]
    finally:
        if "stop" in holder and "error" not in holder:
            trio.from_thread.run_sync(holder["stop"].set, trio_token=holder["token"])
        thread.join(30)
        daemon._stop_on_signal = original


class Sub:
    """A minimal Subsonic caller that validates every envelope it receives."""

    def __init__(self, url: str, user: str | None = None, password: str | None = None, api_key: str | None = None):
        self.http = httpx.Client(base_url=url, timeout=30)
        self.user, self.password, self.api_key = user, password, api_key

    def auth(self) -> dict:
        if self.api_key:
            return {"apiKey": self.api_key}
        salt = "s4lt"
        return {"u": self.user, "t": hashlib.md5((self.password + salt).encode()).hexdigest(), "s": salt}

    def raw(self, method: str, params: dict | list | None = None, *, post: bool = False, fmt: str = "json",
            auth: bool = True, view: bool = False):
        items = list(params.items()) if isinstance(params, dict) else list(params or [])
        items += [("v", "1.16.1"), ("c", "tests")] + (list(self.auth().items()) if auth else [])
        if fmt:
            items.append(("f", fmt))
        path = f"/rest/{method}" + (".view" if view else "")
        if post:
            from urllib.parse import urlencode

            return self.http.post(path, content=urlencode(items).encode(),
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
        return self.http.get(path, params=items)

    def json(self, method: str, params=None, *, ok: bool = True, **kw) -> dict:
        r = self.raw(method, params, fmt="json", **kw)
        assert r.status_code == 200, r.text
        body = r.json()
        check_json(method, body)
        inner = body["subsonic-response"]
        assert (inner["status"] == "ok") == ok, inner
        return inner

    def xml(self, method: str, params=None, **kw):
        r = self.raw(method, params, fmt="", **kw)
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/xml")
        return check_xml(r.content)

    def error(self, method: str, params=None, **kw) -> dict:
        return self.json(method, params, ok=False, **kw)["error"]
