"""Authentication: app password (plain, enc:, token+salt), login password, API keys, errors, the limiter,
and the app password's storage (AES-GCM under a node-held key, never the argon2id hash)."""

import hashlib

import httpx
import pytest

from sonantica.node.api.ratelimit import FREE_TRIES
from sonantica.node.store.db import Store
from tests.support.node import PASSWORD

from .conftest import app_password
from .harness import Sub


@pytest.fixture(scope="module")
def pw(node):
    return app_password(node, "owner")


def call(node, params, method="ping"):
    r = httpx.get(f"{node.url}/rest/{method}", params={"v": "1.16.1", "c": "t", "f": "json", **params})
    assert r.status_code == 200
    return r.json()["subsonic-response"]


def test_every_credential_form(node, pw):
    salt = "abc123"
    token = hashlib.md5((pw + salt).encode()).hexdigest()
    assert call(node, {"u": "owner", "p": pw})["status"] == "ok"
    assert call(node, {"u": "owner", "p": "enc:" + pw.encode().hex()})["status"] == "ok"
    assert call(node, {"u": "owner", "t": token, "s": salt})["status"] == "ok"
    assert call(node, {"u": "owner", "t": token.upper(), "s": salt})["status"] == "ok"
    assert call(node, {"u": "owner", "p": PASSWORD})["status"] == "ok"  # the login password works with p=
    assert call(node, {"u": "owner", "p": "enc:" + PASSWORD.encode().hex()})["status"] == "ok"
    r = httpx.post(f"{node.url}/rest/ping.view", data={"u": "owner", "t": token, "s": salt, "f": "json"})
    assert r.json()["subsonic-response"]["status"] == "ok"


def test_api_key(node):
    with httpx.Client(base_url=node.url) as c:
        c.post("/api/v1/auth/login", json={"username": "lis", "password": PASSWORD})
        key = c.post("/api/v1/me/api-keys", json={"name": "phone"}).json()["key"]
    sub = Sub(node.url, api_key=key)
    assert sub.json("getUser")["user"]["username"] == "lis"
    assert call(node, {"apiKey": key, "u": "lis"})["error"]["code"] == 43
    assert call(node, {"apiKey": "son_wrong"})["error"]["code"] == 44


def test_app_password_is_encrypted_at_rest_and_replaceable(node, pw):
    store = Store.open(node.data.db_path)
    try:
        blob, hashed = store.read_sync(lambda db: db.conn.execute(
            "SELECT subsonic_secret, password_hash FROM user WHERE name = 'owner'").fetchone())
    finally:
        store.close()
    assert pw.encode() not in blob and len(blob) == 12 + len(pw) + 16
    assert hashed.startswith("$argon2id$")  # the login hash is unchanged in kind
    with httpx.Client(base_url=node.url) as c:
        assert c.get("/api/v1/me/subsonic-password").status_code == 401
        c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
        assert c.get("/api/v1/me/subsonic-password").json()["password"] == pw
        assert c.put("/api/v1/me/subsonic-password", json={"password": "short"}).status_code == 400
        assert c.put("/api/v1/me/subsonic-password", json={"password": "my own choice"}).status_code == 201
    salt = "zz"
    token = hashlib.md5(("my own choice" + salt).encode()).hexdigest()
    assert call(node, {"u": "owner", "t": token, "s": salt})["status"] == "ok"
    assert call(node, {"u": "owner", "p": pw})["error"]["code"] == 40  # the old one is gone
    with httpx.Client(base_url=node.url) as c:
        c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
        assert c.delete("/api/v1/me/subsonic-password").status_code == 204
        assert c.get("/api/v1/me/subsonic-password").json()["password"] is None
    assert call(node, {"u": "owner", "t": token, "s": salt})["error"]["code"] == 40


def test_token_needs_an_app_password(node):
    # lis has none: token auth cannot work, plain with the login password does
    assert call(node, {"u": "lis", "t": hashlib.md5(b"x").hexdigest(), "s": "x"})["error"]["code"] == 40
    assert call(node, {"u": "lis", "p": PASSWORD})["status"] == "ok"


def test_missing_and_conflicting(node):
    assert call(node, {})["error"]["code"] == 10
    assert call(node, {"u": "owner"})["error"]["code"] == 10
    assert call(node, {"u": "owner", "t": "x"})["error"]["code"] == 10
    assert call(node, {"u": "owner", "t": "x", "s": "y", "p": "z"})["error"]["code"] == 43
    assert call(node, {}, "getOpenSubsonicExtensions")["status"] == "ok"


def test_plain_login_password_is_fast_after_the_first_check(node, monkeypatch):
    """Apps sending ``p`` on every call pay the argon2id check (~0.3 s of CPU) once, not per call.

    Counted, not timed: the node runs in this process, so the test counts argon2id verifications."""
    import nacl.pwhash

    checks = []
    verify = nacl.pwhash.verify
    monkeypatch.setattr(nacl.pwhash, "verify", lambda *a: checks.append(1) or verify(*a))
    assert call(node, {"u": "owner", "p": PASSWORD + "?"})["error"]["code"] == 40  # a fresh check
    assert len(checks) == 1
    assert call(node, {"u": "owner", "p": PASSWORD})["status"] == "ok"
    first = len(checks)
    for _ in range(5):
        assert call(node, {"u": "owner", "p": PASSWORD})["status"] == "ok"
    assert len(checks) == first, "the right password is verified once, then remembered"
    assert call(node, {"u": "owner", "p": PASSWORD + "x"})["error"]["code"] == 40
    assert len(checks) == first + 1, "a different password is checked again"


def test_failures_are_rate_limited_not_40(node):
    """Last in the module: after the free tries a stale password is answered "rate limited" (HTTP 429,
    error 0), while the right password of any account, the throttled one included, goes through."""
    for _ in range(FREE_TRIES):
        assert call(node, {"u": "ghost", "p": "wrong password"})["error"]["code"] == 40
    r = httpx.get(f"{node.url}/rest/ping", params={"u": "ghost", "p": "wrong password", "f": "json"})
    assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
    err = r.json()["subsonic-response"]["error"]
    assert err["code"] == 0 and err["message"].startswith("rate limited, retry in")
    r = httpx.get(f"{node.url}/rest/ping", params={"u": "ghost", "p": "wrong password"})
    assert r.status_code == 429 and b'code="0"' in r.content
    assert call(node, {"u": "lis", "p": PASSWORD})["status"] == "ok"
