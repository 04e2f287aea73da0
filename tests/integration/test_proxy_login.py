"""Trusted-header login (docs/proxy-login.md), with real requests on loopback: 127.0.0.1 plays the
reverse proxy (in ``trusted_proxies``), 127.0.0.2 anyone else on the network (the same header from
there is ignored)."""

from __future__ import annotations

import httpx
import pytest

from sonantica.node.config import Config, parse_config
from sonantica.node.errors import ConfigError
from tests.subsonic.harness import node_in_thread
from tests.support.node import PASSWORD, init_node

HEADER = "Remote-User"


@pytest.fixture(scope="module")
def nodes(tmp_path_factory):
    """``open``: the header on, unknown names become listeners; ``closed``: on, no new accounts;
    ``plain``: the defaults (off)."""
    root = tmp_path_factory.mktemp("proxy")
    (root / "music").mkdir()
    users = {"owner": "owner", "ana": "listener"}
    on = {"auth_header": HEADER, "trusted_proxies": ("127.0.0.1/32",)}
    with node_in_thread(init_node(root / "open", root / "music", users), **on, auth_header_create_users=True) as a, \
            node_in_thread(init_node(root / "closed", root / "music", users), **on) as b, \
            node_in_thread(init_node(root / "plain", root / "music", users)) as c:
        yield {"open": a, "closed": b, "plain": c}


def proxy(node) -> httpx.Client:
    """A client on 127.0.0.1: the trusted reverse proxy."""
    return httpx.Client(base_url=node.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.1"))


def stranger(node) -> httpx.Client:
    """A client on 127.0.0.2: not a trusted proxy."""
    return httpx.Client(base_url=node.url, timeout=30, transport=httpx.HTTPTransport(local_address="127.0.0.2"))


def as_user(name: str) -> dict:
    return {HEADER: name}


def test_the_trusted_proxy_signs_people_in(nodes):
    with proxy(nodes["open"]) as c:
        r = c.get("/api/v1/me", headers=as_user("ana"))
        assert r.status_code == 200 and r.json()["user"]["name"] == "ana", r.text
        # the web app learns it is signed in without a password
        assert c.get("/api/v1/setup", headers=as_user("ana")).json()["signed_in"] is True
        assert c.get("/api/v1/setup").json()["signed_in"] is False
        # the header alone decides: another user's session beside it does not matter
        owner_token = c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD}).json()["token"]
        r = c.get("/api/v1/me", headers=as_user("ana") | {"Authorization": f"Bearer {owner_token}"})
        assert r.json()["user"]["name"] == "ana"
        # a listener through the proxy is a listener
        assert c.get("/api/v1/users", headers=as_user("ana")).status_code == 403
        assert c.get("/api/v1/users", headers=as_user("owner")).status_code == 200


def test_the_header_from_anywhere_else_is_ignored(nodes):
    with stranger(nodes["open"]) as c:
        assert c.get("/api/v1/me", headers=as_user("owner")).status_code == 401
        assert c.get("/api/v1/setup", headers=as_user("owner")).json()["signed_in"] is False
        # a stranger cannot make accounts by naming them either
        assert c.get("/api/v1/me", headers=as_user("mallory")).status_code == 401
        # and signs in as usual
        token = c.post("/api/v1/auth/login", json={"username": "ana", "password": PASSWORD}).json()["token"]
        r = c.get("/api/v1/me", headers=as_user("owner") | {"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["user"]["name"] == "ana"
    with proxy(nodes["open"]) as c:
        names = [u["name"] for u in c.get("/api/v1/users", headers=as_user("owner")).json()["users"]]
        assert "mallory" not in names


def test_new_names_become_listeners_only_if_the_owner_allows_it(nodes):
    with proxy(nodes["open"]) as c:
        r = c.get("/api/v1/me", headers=as_user("newcomer@example.org"))
        assert r.status_code == 200, r.text
        assert r.json()["user"]["name"] == "newcomer@example.org" and r.json()["user"]["role"] == "listener"
        assert c.get("/api/v1/me", headers=as_user("newcomer@example.org")).json()["user"]["id"] == r.json()["user"]["id"]
        bad = c.get("/api/v1/me", headers=as_user("two words"))
        assert bad.status_code == 401 and "valid user" in bad.json()["error"]["message"]
    with proxy(nodes["closed"]) as c:
        r = c.get("/api/v1/me", headers=as_user("newcomer"))
        assert r.status_code == 401 and "no account" in r.json()["error"]["message"]
        assert c.get("/api/v1/me", headers=as_user("ana")).status_code == 200


def test_off_by_default(nodes):
    assert Config().auth_header == "" and Config().auth_header_create_users is False
    with proxy(nodes["plain"]) as c:
        assert c.get("/api/v1/me", headers=as_user("owner")).status_code == 401


def test_subsonic_through_the_proxy(nodes):
    params = {"v": "1.16.1", "c": "proxy-test", "f": "json"}
    with proxy(nodes["open"]) as c:
        r = c.get("/rest/getUser", params=params | {"username": "ana"}, headers=as_user("ana")).json()
        assert r["subsonic-response"]["status"] == "ok" and r["subsonic-response"]["user"]["username"] == "ana"
        # a u= naming someone else than the proxy's user is refused
        r = c.get("/rest/ping", params=params | {"u": "owner", "p": PASSWORD}, headers=as_user("ana")).json()
        assert r["subsonic-response"]["error"]["code"] == 40
    with stranger(nodes["open"]) as c:
        r = c.get("/rest/ping", params=params, headers=as_user("ana")).json()
        assert r["subsonic-response"]["status"] == "failed" and r["subsonic-response"]["error"]["code"] == 10
        # ordinary Subsonic sign-in still works from anywhere (login password with p=)
        r = c.get("/rest/ping", params=params | {"u": "ana", "p": PASSWORD}).json()
        assert r["subsonic-response"]["status"] == "ok"


@pytest.mark.parametrize("text, message", [
    ('auth_header = "Remote-User"\n', "trusted_proxies"),
    ('auth_header = "Remote User"\ntrusted_proxies = ["127.0.0.1"]\n', "auth_header"),
    ('auth_header = "Cookie"\ntrusted_proxies = ["127.0.0.1"]\n', "auth_header"),
])
def test_bad_settings_are_refused(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(text)
