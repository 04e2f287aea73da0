"""The polite client against a stand-in: pace, back-off, cache, and hostile answers that change nothing."""

from __future__ import annotations

from dataclasses import replace

import pytest
import trio

from sonantica.node.config import Config
from sonantica.node.metadata import http
from sonantica.node.metadata.base import Context
from sonantica.node.metadata.http import Endpoint, Http, Unavailable
from sonantica.node.store import metadata as meta_store
from sonantica.node.store.db import Store

from .standin import Answer, body_json
from .world import picture


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "db.sqlite")
    yield s
    s.close()


def _config(standin, **kw) -> Config:
    return replace(Config(), metadata=True, metadata_contact="owner@example.org", **standin.settings(), **kw)


def _run(fn):
    return trio.run(fn)


def _client(store, standin, settings=None, **kw):
    client = Http(store, _config(standin, **kw))
    if settings is not None:
        client.settings = settings
    return client


def test_musicbrainz_pace_is_one_request_a_second(store, standin):
    """Measured at the stand-in: requests start at least a second apart (the real setting)."""
    standin.routes["/mb/pace"] = Answer(200, body_json({"ok": 1}))

    async def go():
        client = _client(store, standin, http.Settings())
        ep = Endpoint("musicbrainz", standin.url + "/mb", spacing=1.0)
        for i in range(3):
            await client.json(ep, "/pace", {"n": i})
        await client.aclose()

    _run(go)
    times = [s.at for s in standin.seen if s.path == "/mb/pace"]
    assert len(times) == 3
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert min(gaps) >= 0.95, gaps


def test_user_agent_names_project_version_and_contact(store, standin):
    standin.routes["/mb/ua"] = Answer(200, body_json({}))

    async def go():
        client = _client(store, standin)
        await client.json(Endpoint("musicbrainz", standin.url + "/mb"), "/ua")
        await client.aclose()

    _run(go)
    ua = next(s for s in standin.seen if s.path == "/mb/ua").headers["user-agent"]
    assert ua.startswith("Sonantica/") and "( owner@example.org )" in ua


def test_backs_off_on_503_then_succeeds(store, standin):
    answers = iter([Answer(503, b"busy", "text/plain"), Answer(429, b"slow down", "text/plain"),
                    Answer(200, body_json({"found": True}))])
    standin.routes["/mb/busy"] = lambda seen: next(answers)

    async def go():
        client = _client(store, standin)
        value = await client.json(Endpoint("musicbrainz", standin.url + "/mb", spacing=0), "/busy")
        await client.aclose()
        return value

    assert _run(go) == {"found": True}
    times = [s.at for s in standin.seen if s.path == "/mb/busy"]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) == 3 and gaps[0] >= 0.05 and gaps[1] >= 0.1  # waits of 0.05 s, then 0.1 s


def test_gives_up_after_repeated_503_and_says_so_in_status(store, standin):
    standin.routes["/mb/down"] = Answer(503, b"down", "text/plain", headers=(("retry-after", "0"),))

    async def go():
        client = _client(store, standin)
        with pytest.raises(Unavailable, match="busy"):
            await client.json(Endpoint("musicbrainz", standin.url + "/mb", spacing=0), "/down")
        # asked again at once: the failure is cached, nothing is sent
        with pytest.raises(Unavailable):
            await client.json(Endpoint("musicbrainz", standin.url + "/mb", spacing=0), "/down")
        await client.aclose()

    _run(go)
    assert sum(1 for s in standin.seen if s.path == "/mb/down") == http.SETTINGS.max_attempts
    [mb] = [p for p in store.read_sync(meta_store.progress)["providers"] if p["name"] == "musicbrainz"]
    assert "503" in mb["last_error"] and mb["failures"] >= 1


def test_not_found_is_cached_with_a_retry_time(store, standin):
    async def go():
        client = _client(store, standin)
        ep = Endpoint("musicbrainz", standin.url + "/mb", spacing=0)
        assert await client.json(ep, "/nothing-here") is None
        assert await client.json(ep, "/nothing-here") is None
        await client.aclose()

    _run(go)
    assert sum(1 for s in standin.seen if s.path == "/mb/nothing-here") == 1
    cached = store.read_sync(meta_store.answer, "musicbrainz", "/nothing-here")
    assert cached["status"] == "missing" and cached["retry_at"] > cached["fetched_at"] + 86_400


HOSTILE = {
    "garbage": Answer(200, b"{not json at all", "application/json"),
    "not-object": Answer(200, b"[1, 2, 3]", "application/json"),
    "html": Answer(200, b"<html>hello</html>", "text/html"),
    "huge": Answer(200, b'{"x": "' + b"a" * (3 * 1024 * 1024) + b'"}', "application/json"),
    "slow": Answer(200, body_json({"late": True}), delay=5),
    "drip": Answer(200, body_json({"x": "y" * 100}), drip=20),  # 10 s in all: past the whole-exchange bound
    "elsewhere": Answer(302, b"", "text/html", headers=(("location", "http://localhost:9/evil"),)),
    "loop": Answer(302, b"", "text/html", headers=(("location", "/mb/hostile/loop"),)),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_hostile_answers_are_refused_and_reported(store, standin, kind):
    standin.routes[f"/mb/hostile/{kind}"] = HOSTILE[kind]

    async def go():
        client = _client(store, standin)
        with trio.fail_after(10), pytest.raises(Unavailable) as err:
            await client.json(Endpoint("musicbrainz", standin.url + "/mb", spacing=0), f"/hostile/{kind}")
        await client.aclose()
        return err.value

    err = _run(go)
    assert err.reason
    cached = store.read_sync(meta_store.answer, "musicbrainz", f"/hostile/{kind}")
    assert cached["status"] == "failed" and cached["body"] is None
    [mb] = [p for p in store.read_sync(meta_store.progress)["providers"] if p["name"] == "musicbrainz"]
    assert mb["last_error"]


@pytest.mark.parametrize("kind", ["text", "html-typed", "bomb", "huge", "truncated"])
def test_bad_pictures_are_refused(store, standin, tmp_path, kind):
    good = picture()
    bodies = {
        "text": lambda: Answer(200, b"this is not a picture", "image/jpeg"),
        "html-typed": lambda: Answer(200, good, "text/html"),
        "bomb": lambda: Answer(200, _bomb(), "image/png"),
        "huge": lambda: Answer(200, good + b"\0" * (11 * 1024 * 1024), "image/jpeg"),
        "truncated": lambda: Answer(200, good[: len(good) // 2], "image/jpeg"),
    }
    standin.routes[f"/caa/bad/{kind}.jpg"] = bodies[kind]()

    async def go():
        client = _client(store, standin)
        ctx = Context(client, _config(standin), tmp_path / "images")
        ep = Endpoint("coverartarchive", standin.url + "/caa", spacing=0)
        with pytest.raises(Unavailable):
            await ctx.keep_image(ep, f"{standin.url}/caa/bad/{kind}.jpg")
        await client.aclose()

    _run(go)
    assert not (tmp_path / "images").exists() or not list((tmp_path / "images").iterdir())


def _bomb() -> bytes:
    """A small PNG that claims 10000 × 10000 pixels."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("1", (10_000, 10_000)).save(buf, "PNG")
    return buf.getvalue()


def test_off_sends_nothing(store, standin):
    standin.routes["/mb/off"] = Answer(200, body_json({}))
    before = standin.count()

    async def go():
        client = Http(store, replace(_config(standin), metadata=False))
        with pytest.raises(Unavailable, match="turned off"):
            await client.json(Endpoint("musicbrainz", standin.url + "/mb"), "/off")
        await client.aclose()

    _run(go)
    assert standin.count() == before
