"""Share links through Subsonic and the native API, and what a visitor without an account gets: the page,
its songs and cover, downloads only when allowed, 404 for forged, expired and revoked links, and a
token that opens nothing else of the node."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import httpx
import pytest

from sonantica.node.config import Config
from tests.support.node import PASSWORD, init_node

from .conftest import build_library
from .harness import Sub, node_in_thread


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    """This module's node: the proxy on 127.0.0.1 is trusted, so its X-Forwarded-* headers name the public address."""
    root = tmp_path_factory.mktemp("shares")
    music = root / "music"
    build_library(music)
    data = init_node(root / "node", music, users={"owner": "owner", "lis": "listener"})
    with node_in_thread(data, trusted_proxies=("127.0.0.1",)) as running:
        yield running


def token_of(url: str) -> str:
    return urlsplit(url).path.rsplit("/", 1)[1]


def local(node, url: str) -> str:
    """The path of a share URL on this node (the URL may name the proxy's public address)."""
    return urlsplit(url).path


@pytest.fixture(scope="module")
def visitor(node):
    with httpx.Client(base_url=node.url, timeout=30) as c:
        yield c


def test_share_an_album_and_open_it_without_an_account(owner, ids, visitor, node):
    body = owner.json("createShare", {"id": ids["post"], "description": "Björk <b>at</b> her best"})
    share = body["shares"]["share"][0]
    assert share["url"].startswith(node.url + "/s/")
    assert [e["title"] for e in share["entry"]] == ["Army of Me", "Hyperballad"]
    assert share["username"] == "owner" and share["visitCount"] == 0 and "expires" in share
    token = token_of(share["url"])
    assert len(token) >= 22 and re.fullmatch(r"[A-Za-z0-9_-]+", token)  # ≥ 128 bits, URL-safe

    page = visitor.get(local(node, share["url"]))
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert page.headers["cache-control"] == "no-store" and "noindex" in page.headers["x-robots-tag"]
    text = page.text
    assert "<h1>Post</h1>" in text and "Army of Me" in text and "Hyperballad" in text
    assert "Björk &lt;b&gt;at&lt;/b&gt; her best" in text  # the description is text, never HTML
    assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", text))  # no inline script
    assert not re.search(r"\son\w+=", text) and "<style" not in text
    links = set(re.findall(r'(?:href|src)="([^"]+)"', text))
    assert all(u.startswith((f"/s/{token}", "/static/", "data:")) for u in links), links  # nothing else of the node

    audio = visitor.get(f"/s/{token}/stream/0", headers={"Range": "bytes=0-3"})
    assert audio.status_code == 206 and audio.content == b"fLaC"  # loopback: the original
    assert visitor.get(f"/s/{token}/cover").headers["content-type"].startswith("image/")
    assert visitor.get(f"/s/{token}/stream/2").status_code == 404  # the album has two songs
    assert visitor.get(f"/s/{token}/download/0").status_code == 404  # downloads not allowed

    listed = owner.json("getShares")["shares"]["share"]
    assert [(s["id"], s["visitCount"]) for s in listed] == [(share["id"], 1)] and "lastVisited" in listed[0]
    owner.xml("getShares")
    owner.json("deleteShare", {"id": share["id"]})
    assert visitor.get(local(node, share["url"])).status_code == 404  # revoked
    assert visitor.get(f"/s/{token}/stream/0").status_code == 404


def test_forged_expired_and_updated_links(owner, listener, ids, visitor, node):
    share = owner.json("createShare", [("id", ids["army"]), ("id", ids["love"]), ("downloadable", "true")])[
        "shares"]["share"][0]
    token = token_of(share["url"])
    assert visitor.get(f"/s/{token}").status_code == 200
    download = visitor.get(f"/s/{token}/download/1")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    # a forged token (one character changed, in the random part and in the signature), a short one, garbage
    for bad in (("B" if token[0] != "B" else "C") + token[1:], token[:-1] + ("A" if token[-1] != "A" else "Q"),
                token[:22], token + "x", "x" * 43, "..%2f..%2fetc"):
        assert visitor.get(f"/s/{bad}").status_code == 404, bad
        assert visitor.get(f"/s/{bad}/stream/0").status_code == 404, bad

    # others cannot change it; its author can
    assert listener.error("updateShare", {"id": share["id"], "description": "mine now"})["code"] == 70
    assert listener.error("deleteShare", {"id": share["id"]})["code"] == 70
    assert listener.json("getShares")["shares"] == {"share": []}
    owner.json("updateShare", {"id": share["id"], "description": "for the road", "expires": 0})
    again = owner.json("getShares")["shares"]["share"][0]
    assert again["description"] == "for the road" and "expires" not in again  # 0 removes the expiry
    assert owner.error("updateShare", {"id": share["id"], "expires": int(time.time() * 1000) - 60_000})["code"] == 0

    # expired: 404, and listed as it was
    owner.json("updateShare", {"id": share["id"], "expires": int(time.time() * 1000) + 1200})
    deadline = time.monotonic() + 10
    while visitor.get(f"/s/{token}").status_code != 404:
        assert time.monotonic() < deadline, "the link did not expire"
        time.sleep(0.1)
    assert visitor.get(f"/s/{token}/download/1").status_code == 404
    assert [s["id"] for s in owner.json("getShares")["shares"]["share"]] == [share["id"]]
    owner.json("deleteShare", {"id": share["id"]})


def test_bad_shares_are_refused(owner, listener, ids):
    assert listener.json("getUser")["user"]["shareRole"] is True  # share_links is on: apps offer Share
    assert owner.error("createShare")["code"] == 10
    assert owner.error("createShare", {"id": "tr-nothing"})["code"] == 70
    assert owner.error("createShare", {"id": ids["bjork"]})["code"] == 70  # an artist: not shareable
    assert owner.error("createShare", {"id": ids["army"], "expires": "tomorrow"})["code"] == 0
    assert owner.error("deleteShare", {"id": "sh-000000000000"})["code"] == 70
    # a private playlist only by its owner, even for admins (who may read it)
    listener.json("createPlaylist", {"name": "Only mine", "songId": ids["army"]})
    private = next(p for p in listener.json("getPlaylists")["playlists"]["playlist"] if p["name"] == "Only mine")
    assert owner.error("createShare", {"id": private["id"]})["code"] == 70
    mine = listener.json("createShare", {"id": private["id"]})["shares"]["share"][0]
    assert [e["title"] for e in mine["entry"]] == ["Army of Me"]
    listener.json("deleteShare", {"id": mine["id"]})
    listener.json("deletePlaylist", {"id": private["id"]})
    assert owner.json("getShares")["shares"] == {"share": []}


def test_url_names_the_public_address_behind_a_trusted_proxy(owner, ids, node):
    with httpx.Client(base_url=node.url, timeout=30) as c:
        r = c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
        assert r.status_code == 200
        proxy = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "music.example.org",
                 "X-Forwarded-Prefix": "/tunes", "X-Forwarded-For": "203.0.113.9"}
        r = c.post("/api/v1/shares", json={"ids": [ids["lunch"]], "downloadable": True}, headers=proxy)
        assert r.status_code == 201, r.text
        share = r.json()
        assert share["url"].startswith("https://music.example.org/tunes/s/")
        assert share["title"] == "Lunch" and share["downloadable"] is True and share["expired"] is False
        # a hostile host header is not believed: the node's own address stays
        r = c.get("/api/v1/shares", headers={**proxy, "X-Forwarded-Host": "evil.example/<script>"})
        assert r.json()["items"][0]["url"].startswith("https://127.0.0.1:")
        # the native API: change, see everyone's (admins only), revoke
        assert c.patch(f"/api/v1/shares/{share['id']}", json={"description": "lunch"}).json()["description"] == "lunch"
        assert c.get("/api/v1/shares", params={"all": "true"}).json()["enabled"] is True
        got = c.get(f"/api/v1/shares/{share['id']}").json()
        assert [t["title"] for t in got["tracks"]] == ["Love", "Lovely Day"]
    with httpx.Client(base_url=node.url, timeout=30) as lis:
        lis.post("/api/v1/auth/login", json={"username": "lis", "password": PASSWORD})
        assert lis.get("/api/v1/shares", params={"all": "true"}).status_code == 403
        assert lis.get(f"/api/v1/shares/{share['id']}").status_code == 404
        assert lis.delete(f"/api/v1/shares/{share['id']}").status_code == 404
    assert [s["id"] for s in owner.json("getShares")["shares"]["share"]] == [share["id"]]
    owner.json("deleteShare", {"id": share["id"]})


def test_the_token_opens_nothing_else(owner, ids, visitor, node):
    """Every route of the node, with the share token presented every way a credential can be: the same
    answer as with no credential at all (public routes), or a refusal."""
    from sonantica.node.api.app import create_app

    share = owner.json("createShare", {"id": ids["post"], "downloadable": "true"})["shares"]["share"][0]
    token = token_of(share["url"])
    app = create_app(SimpleNamespace(config=Config(), data=SimpleNamespace(root=None)))  # its route map only
    ways = [{"headers": {"Authorization": f"Bearer {token}"}}, {"headers": {"X-Api-Key": token}},
            {"headers": {"Cookie": f"sonantica_session={token}"}}, {"params": {"token": token, "share": token}}]
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/s/") or rule.endpoint == "static":
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "0" if m.group(0).startswith("<int") else token, rule.rule)
        if "<any(" in rule.rule:
            continue
        for method in sorted(rule.methods - {"OPTIONS", "HEAD"}):
            if path.startswith("/rest"):
                continue  # below
            if path in ("/api/v1/events",):
                continue  # an endless stream (it refuses like the others: test_api checks its access)
            bare = visitor.request(method, path)
            for way in ways:
                r = visitor.request(method, path, **way)
                if bare.status_code < 400:  # public: the token adds nothing
                    assert (r.status_code, r.content) == (bare.status_code, bare.content) or r.status_code >= 400, \
                        (method, path, way)
                else:
                    assert r.status_code in (400, 401, 403, 404, 405, 413, 415), (method, path, way, r.status_code)
                checked += 1
    assert checked > 200
    # Subsonic: the token is no password, API key or token
    sub = Sub(node.url, "owner", token)
    for params in ({"apiKey": token}, {"u": "owner", "p": token}, {"u": share["username"], "p": "enc:" + token.encode().hex()}):
        r = sub.raw("getAlbum", {"id": ids["post"], **params}, auth=False)
        assert r.json()["subsonic-response"]["status"] == "failed", params
    # another share's routes: not with this token
    other = owner.json("createShare", {"id": ids["lunch"]})["shares"]["share"][0]
    assert visitor.get(f"/s/{token}/stream/0").content[:4] == b"fLaC"  # Post, not Lunch (MP3)
    owner.json("deleteShare", {"id": other["id"]})
    owner.json("deleteShare", {"id": share["id"]})


def test_public_base_ignores_headers_from_untrusted_peers():
    from werkzeug.datastructures import Headers

    from sonantica.node.sharing import public_base

    headers = Headers({"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"})
    assert public_base("http", "node.lan:4533", "192.0.2.7", headers, ()) == "http://node.lan:4533"
    assert public_base("http", "node.lan:4533", "192.0.2.7", headers, ("10.0.0.0/8",)) == "http://node.lan:4533"
    assert public_base("http", "node.lan:4533", "10.1.2.3", headers, ("10.0.0.0/8",)) == "https://evil.example"
    assert public_base("http", "bad host<", "192.0.2.7", headers, ()) == "http://localhost"


def test_the_owner_turns_sharing_off_and_on(tmp_path):
    """share_links = false: no new links (Subsonic error 50, native 403), every existing link 404, the shares
    still listed for their authors and admins to revoke; turned on again, the same link works again."""
    from tests.support.audio import make_track

    music = tmp_path / "music"
    make_track(music / "one.flac", "flac", {"title": "One", "artist": "Solo", "album": "Alone"}, seconds=1)
    data = init_node(tmp_path / "node", music, users={"owner": "owner"})
    with node_in_thread(data) as running:
        with httpx.Client(base_url=running.url, timeout=30) as c:
            c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
            song = c.get("/api/v1/tracks").json()["items"][0]
            share = c.post("/api/v1/shares", json={"ids": [song["id"]]}).json()
            path = urlsplit(share["url"]).path
            assert c.get(path).status_code == 200
    with node_in_thread(data, share_links=False) as running:
        with httpx.Client(base_url=running.url, timeout=30) as c:
            assert c.get(path).status_code == 404 and c.get(path + "/stream/0").status_code == 404
            c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
            assert c.post("/api/v1/shares", json={"ids": [song["id"]]}).status_code == 403
            listed = c.get("/api/v1/shares").json()
            assert listed["enabled"] is False and [s["id"] for s in listed["items"]] == [share["id"]]
            password = c.post("/api/v1/me/subsonic-password").json()["password"]
        sub = Sub(running.url, "owner", password)
        assert sub.error("createShare", {"id": song["id"]})["code"] == 50
        assert sub.json("getUser")["user"]["shareRole"] is False
    with node_in_thread(data) as running, httpx.Client(base_url=running.url, timeout=30) as c:
        assert c.get(path).status_code == 200
