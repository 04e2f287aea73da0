"""Forwarding to a local stand-in for ListenBrainz and Last.fm (127.0.0.1, recorded-shape responses).

The stand-in answers as the real services do: ListenBrainz ``{"status": "ok"}``
or ``{"code": 401, "error": "Invalid authorization token."}``; Last.fm
``{"scrobbles": {"@attr": {"accepted": n, "ignored": 0}, ...}}`` or
``{"error": 16, "message": "..."}`` / ``{"error": 9, ...}``. It checks the
Last.fm signature and the ListenBrainz token, and can be told to fail.
"""

from __future__ import annotations

import hashlib
import time
from types import SimpleNamespace

import trio
from hypercorn.config import Config as HConfig
from hypercorn.trio import serve
from quart import request
from quart_trio import QuartTrio

from sonantica.node.analytics import forward, plays
from sonantica.node.store import plays as ps
from sonantica.node.store.db import Store

from . import synth

TOKEN, API_KEY, SECRET, SK = "lb-token", "fm-key", "fm-secret", "fm-session"


def stand_in(state: dict) -> QuartTrio:
    app = QuartTrio("stand-in")

    @app.post("/1/submit-listens")
    async def submit():
        if state["lb_fail"]:
            state["lb_fail"] -= 1
            return {"code": 503, "error": "Service unavailable"}, 503
        if request.headers.get("Authorization") != f"Token {TOKEN}":
            return {"code": 401, "error": "Invalid authorization token."}, 401
        body = await request.get_json()
        state["lb"].extend(body["payload"])
        return {"status": "ok"}

    @app.post("/2.0/")
    async def scrobble():
        form = await request.form
        params = {k: v for k, v in form.items() if k not in ("api_sig", "format")}
        sig = hashlib.md5(("".join(k + params[k] for k in sorted(params)) + SECRET).encode()).hexdigest()
        if state["fm_fail"]:
            state["fm_fail"] -= 1
            return {"error": 16, "message": "There was a temporary error processing your request."}
        if form.get("sk") != SK or form.get("api_sig") != sig:
            return {"error": 9, "message": "Invalid session key - Please re-authenticate"}, 403
        n = sum(1 for k in form if k.startswith("track["))
        state["fm"].extend(form[f"track[{i}]"] for i in range(n))
        return {"scrobbles": {"@attr": {"accepted": n, "ignored": 0}, "scrobble": []}}

    return app


async def start_stand_in(nursery, state) -> str:
    cfg = HConfig()
    cfg.bind = ["127.0.0.1:0"]
    urls = await nursery.start(lambda task_status: serve(stand_in(state), cfg, task_status=task_status))
    return urls[0]


async def test_queue_retries_survives_restart_and_holds_on_bad_credentials(tmp_path, nursery):
    T = time.time() + 60  # "now" for delivery: after every enqueue of the test
    import httpx

    state = {"lb": [], "fm": [], "lb_fail": 1, "fm_fail": 1}
    base = await start_stand_in(nursery, state)
    path = tmp_path / "node.db"
    store = Store.open(path)
    cat = store.write_sync(synth.add_catalogue, 10, 2)
    uid = store.write_sync(synth.add_user, "ana")
    other = store.write_sync(synth.add_user, "bo")
    store.write_sync(forward.save_account, uid, "listenbrainz", {"enabled": True, "token": TOKEN, "url": base})
    store.write_sync(forward.save_account, uid, "lastfm", {"enabled": True, "token": SK, "api_key": API_KEY,
                                                            "api_secret": SECRET, "url": base + "/2.0/"})
    for n in range(3):
        store.write_sync(plays.apply_scrobble, uid, cat[n]["id"], True, "web", 1000.0 + n * 300, None, None, 2000.0)
    store.write_sync(plays.apply_scrobble, other, cat[0]["id"], True, "web", 1000.0, None, None, 2000.0)  # off
    assert store.read_sync(ps.queue_counts, uid) == {"lastfm": {"pending": 3}, "listenbrainz": {"pending": 3}}
    assert store.read_sync(ps.queue_counts, other) == {}
    store.close()

    store = Store.open(path)  # a restart: the queue is in the database
    node = SimpleNamespace(store=store, config=SimpleNamespace(listenbrainz_forwarding=True))
    async with httpx.AsyncClient() as client:
        first = await forward.deliver_due(node, client, now=T)
        assert first == {"sent": 0, "retried": 6, "failed": 0}  # both answered "try later"
        assert await forward.deliver_due(node, client, now=T + 1) == {"sent": 0, "retried": 0, "failed": 0}
        again = await forward.deliver_due(node, client, now=T + forward.BACKOFF_MIN_S + 1)
        assert again == {"sent": 6, "retried": 0, "failed": 0}
    assert [x["track_metadata"]["track_name"] for x in state["lb"]] == ["Song 0", "Song 1", "Song 2"]
    assert state["fm"] == ["Song 0", "Song 1", "Song 2"]
    assert store.read_sync(ps.queue_counts, uid) == {}

    # revoked credentials: the account is held with the reason, nothing is lost
    store.write_sync(forward.save_account, uid, "listenbrainz", {"token": "stale"})
    store.write_sync(plays.apply_scrobble, uid, cat[3]["id"], True, "web", 5000.0, None, None, 6000.0)
    async with httpx.AsyncClient() as client:
        await forward.deliver_due(node, client, now=1e10)
        status = store.read_sync(forward.status, uid)
        assert "Invalid authorization token" in status["listenbrainz"]["last_error"]
        assert status["listenbrainz"]["queue"]["pending"] == 1 and "token" not in status["listenbrainz"]
        store.write_sync(forward.save_account, uid, "listenbrainz", {"token": TOKEN})
        assert (await forward.deliver_due(node, client, now=1e10 + 1))["sent"] == 1
    assert state["lb"][-1]["track_metadata"]["track_name"] == "Song 3"
    store.close()


async def test_nothing_leaves_unless_the_node_allows(tmp_path):
    store = Store.open(tmp_path / "node.db")
    cat = store.write_sync(synth.add_catalogue, 4, 2)
    uid = store.write_sync(synth.add_user, "ana")
    store.write_sync(forward.save_account, uid, "listenbrainz", {"enabled": True, "token": TOKEN,
                                                                  "url": "http://127.0.0.1:9"})
    store.write_sync(plays.apply_scrobble, uid, cat[0]["id"], True, "web", 1000.0, None, None, 2000.0)
    node = SimpleNamespace(store=store, config=SimpleNamespace(listenbrainz_forwarding=False))
    assert await forward.deliver_due(node, None, now=1e10) == {"sent": 0, "retried": 0, "failed": 0}
    store.close()


async def test_unreachable_service_is_retried_with_backoff(tmp_path):
    T = time.time() + 60  # "now" for delivery: after every enqueue of the test
    import httpx

    store = Store.open(tmp_path / "node.db")
    cat = store.write_sync(synth.add_catalogue, 4, 2)
    uid = store.write_sync(synth.add_user, "ana")
    store.write_sync(forward.save_account, uid, "listenbrainz", {"enabled": True, "token": TOKEN,
                                                                  "url": "http://127.0.0.1:9"})
    store.write_sync(plays.apply_scrobble, uid, cat[0]["id"], True, "web", 1000.0, None, None, 2000.0)
    node = SimpleNamespace(store=store, config=SimpleNamespace(listenbrainz_forwarding=True))
    async with httpx.AsyncClient() as client:
        with trio.fail_after(15):
            assert (await forward.deliver_due(node, client, now=T))["retried"] == 1
    [row] = store.read_sync(ps.queue_due, 1e12, 10)
    assert row["attempts"] == 1 and row["next_at"] == T + forward.BACKOFF_MIN_S and "unreachable" in row["last_error"]
    store.close()
