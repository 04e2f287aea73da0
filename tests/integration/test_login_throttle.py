"""One stale password must not lock a household out (issue 18, defect 7), on a real node.

Every client here comes from 127.0.0.1: one address, as when everyone is behind the same
reverse proxy. A stale phone hammers one account with an old password (web sign-in, Subsonic
``p=`` and token); everyone else still signs in with every mechanism (native login, Subsonic
password, token + salt, API key), the stale clients are told "rate limited" (HTTP 429 with
Retry-After; Subsonic error 0, never 40 "wrong username or password", which makes apps forget
the server), and a guesser's rate against one account is measured and bounded.
"""

import hashlib
import secrets
import time

import httpx
import pytest
import trio

from sonantica.node.api.ratelimit import FREE_TRIES, guesses_allowed
from tests.support.audio import make_track
from tests.support.node import PASSWORD, init_node, running_node

USERS = {"owner": "owner", "alice": "listener", "bob": "listener", "carol": "listener", "dave": "listener",
         "erin": "listener"}
OLD = "alice's old password"


@pytest.fixture
def data(tmp_path, music):
    make_track(music / "a.flac", "flac", {"title": "A", "artist": "Ana", "album": "Rec"}, seconds=1)
    return init_node(tmp_path / "data", music, USERS)


def token(password: str) -> dict:
    salt = secrets.token_hex(6)
    return {"t": hashlib.md5((password + salt).encode()).hexdigest(), "s": salt}


async def rest(c: httpx.AsyncClient, auth: dict, method: str = "ping", **headers) -> httpx.Response:
    return await c.get(f"/rest/{method}", params={"v": "1.16.1", "c": "stale", "f": "json", **auth},
                       headers=headers)


def envelope(r: httpx.Response) -> dict:
    return r.json()["subsonic-response"]


def is_rate_limited(r: httpx.Response) -> bool:
    """The Subsonic answer while throttled: 429 + Retry-After + error 0 "rate limited, retry in N s"."""
    body = envelope(r)
    if r.status_code != 429:
        return False
    assert int(r.headers["Retry-After"]) >= 1
    assert body["status"] == "failed" and body["error"]["code"] == 0, body
    assert body["error"]["message"].startswith("rate limited, retry in "), body
    return True


def is_wrong_password(r: httpx.Response) -> bool:
    return r.status_code == 200 and envelope(r).get("error", {}).get("code") == 40


def ok(r: httpx.Response) -> bool:
    return r.status_code == 200 and envelope(r)["status"] == "ok"


async def test_a_stale_password_locks_out_nobody_else(data):
    async with running_node(data) as node, node.client() as c:
        bob = await node.login("bob")
        bob_app = (await bob.post("/api/v1/me/subsonic-password")).json()["password"]
        dave = await node.login("dave")
        dave_key = (await dave.post("/api/v1/me/api-keys", json={"name": "phone"})).json()["key"]

        # the stale phone: a Subsonic app polling with alice's old password, and the old web tab
        started = time.monotonic()
        answers = [await rest(c, {"u": "alice", "p": OLD}) for _ in range(20)]
        hammer_s = time.monotonic() - started
        web = [await c.post("/api/v1/auth/login", json={"username": "alice", "password": OLD}) for _ in range(8)]

        # everyone else, from the same address, with every mechanism
        r = await c.post("/api/v1/auth/login", json={"username": "carol", "password": PASSWORD})
        assert r.status_code == 200, r.text
        assert ok(await rest(c, {"u": "carol", "p": PASSWORD}))
        assert ok(await rest(c, {"u": "carol", "p": "enc:" + PASSWORD.encode().hex()}))
        assert ok(await rest(c, {"u": "bob", **token(bob_app)}))
        assert ok(await rest(c, {"apiKey": dave_key}))
        # the stale clients are told "rate limited", never "wrong password" while throttled
        assert all(is_wrong_password(r) for r in answers[:FREE_TRIES])
        assert all(is_rate_limited(r) for r in answers[FREE_TRIES:])
        assert {r.status_code for r in web} <= {401, 429} and web[-1].status_code == 429
        limited = web[-1].json()["error"]
        assert limited["code"] == "rate_limited" and int(web[-1].headers["Retry-After"]) >= 1
        assert "wrong" not in limited["message"]
        # repeats of one old password cost no argon2 time (20 tries, about one check)
        assert hammer_s < 10, hammer_s

        # and alice herself: her right password is not a guess the stale phone used up
        assert ok(await rest(c, {"u": "alice", "p": PASSWORD}))
        r = await c.post("/api/v1/auth/login", json={"username": "alice", "password": PASSWORD})
        assert r.status_code == 200, r.text

        # an app's burst of parallel requests (covers, a sync) is not mistaken for guessing
        bursts = []

        async def one(auth):
            bursts.append(ok(await rest(c, auth)))

        async with trio.open_nursery() as nursery:
            for _ in range(20):
                nursery.start_soon(one, {"u": "bob", **token(bob_app)})
                nursery.start_soon(one, {"u": "carol", "p": PASSWORD})
        assert bursts == [True] * 40

        # a stale token client (a new salt each time: every try is a new guess) is rate limited too
        started = time.monotonic()
        answers = [await rest(c, {"u": "alice", **token("alice's old app password")}) for _ in range(12)]
        elapsed = time.monotonic() - started
        assert all(is_wrong_password(r) for r in answers[:FREE_TRIES])
        limited = [is_rate_limited(r) for r in answers[FREE_TRIES:]]
        assert all(limited or is_wrong_password(r) for limited, r in zip(limited, answers[FREE_TRIES:]))
        assert limited[0] and sum(not x for x in limited) <= guesses_allowed(elapsed) - FREE_TRIES
        assert ok(await rest(c, {"u": "bob", **token(bob_app)}))
        assert ok(await rest(c, {"u": "carol", "p": PASSWORD}))

        # a revoked API key polling from the same address throttles nobody either
        for _ in range(10):
            assert envelope(await rest(c, {"apiKey": "son_revoked-key"}))["error"]["code"] == 44
        assert ok(await rest(c, {"apiKey": dave_key}))

        # X-Forwarded-For is not trusted unless configured: a spoofed one does not escape the throttle
        answers = [await rest(c, {"u": "dave", "p": OLD}) for _ in range(FREE_TRIES + 1)]
        assert is_rate_limited(answers[-1])
        assert is_rate_limited(await rest(c, {"u": "dave", "p": OLD}, **{"X-Forwarded-For": "198.51.100.7"}))
        assert ok(await rest(c, {"apiKey": dave_key}))


async def test_brute_force_on_one_account_is_bounded_and_others_still_sign_in(data):
    """A guesser sends different passwords to one account, 8 at a time, for a few seconds: the
    node verifies no more guesses than the back-off allows (FREE_TRIES, then one per 1, 2, 4 … s),
    answers the rest "rate limited", and another account signs in meanwhile from the same address."""
    async with running_node(data) as node:
        verified, refused, other = [], [], []
        seconds = 8.0

        async def guesser(c: httpx.AsyncClient, n: int) -> None:
            i = 0
            while time.monotonic() < deadline:
                r = await c.post("/api/v1/auth/login", json={"username": "erin", "password": f"guess {n}-{i}"})
                i += 1
                (verified if r.status_code == 401 else refused).append(r.status_code)
                assert r.status_code in (401, 429), r.text

        async def household() -> None:
            await trio.sleep(2)
            async with node.client() as c:
                r = await c.post("/api/v1/auth/login", json={"username": "bob", "password": PASSWORD})
                other.append(r.status_code)

        async with node.client() as c:
            start = time.monotonic()
            deadline = start + seconds
            async with trio.open_nursery() as nursery:
                for n in range(8):
                    nursery.start_soon(guesser, c, n)
                nursery.start_soon(household)
            elapsed = time.monotonic() - start
        per_minute = len(verified) * 60 / elapsed
        print(f"brute force: {len(verified)} guesses verified, {len(refused)} refused in {elapsed:.1f} s "
              f"(≤ {guesses_allowed(60)} a minute, {guesses_allowed(3600)} an hour by the back-off)")
        assert FREE_TRIES <= len(verified) <= guesses_allowed(elapsed), (len(verified), elapsed, per_minute)
        assert set(refused) == {429}
        assert other == [200]
