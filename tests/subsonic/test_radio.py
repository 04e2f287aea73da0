"""Internet radio: stations managed by admins through Subsonic and the native API, their pictures, and the
owner's optional relay (this module's node has ``radio_proxy = true``) against a stand-in station."""

from __future__ import annotations

import contextlib
import io
import re

import httpx
import pytest
from PIL import Image

from tests.support.audio import jpeg
from tests.support.node import PASSWORD, init_node
from tests.support.radio import station

from .conftest import build_library
from .harness import node_in_thread


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    root = tmp_path_factory.mktemp("radio")
    music = root / "music"
    build_library(music)
    data = init_node(root / "node", music, users={"owner": "owner", "lis": "listener"})
    with node_in_thread(data, radio_proxy=True) as running:
        yield running


@pytest.fixture(scope="module")
def fm(tmp_path_factory):
    with station(tmp_path_factory.mktemp("station")) as running:
        yield running


@contextlib.contextmanager
def login(node, user: str):
    with httpx.Client(base_url=node.url, timeout=30) as c:
        r = c.post("/api/v1/auth/login", json={"username": user, "password": PASSWORD})
        assert r.status_code == 200, r.text
        yield c


def stations(sub) -> list[dict]:
    return sub.json("getInternetRadioStations")["internetRadioStations"].get("internetRadioStation", [])


def test_admins_manage_stations_everyone_lists_them(owner, listener, fm):
    url, _ = fm
    assert stations(listener) == []
    assert listener.error("createInternetRadioStation", {"name": "Mine", "streamUrl": url + "/live.mp3"})["code"] == 50
    owner.json("createInternetRadioStation", {"name": "Stand-in FM", "streamUrl": url + "/live.mp3",
                                              "homepageUrl": "https://fm.example.org/"})
    owner.json("createInternetRadioStation", {"name": "Another <FM>", "streamUrl": url + "/live.ogg"}, post=True)
    got = stations(listener)
    assert [(s["name"], s["streamUrl"]) for s in got] == [("Another <FM>", url + "/live.ogg"),
                                                          ("Stand-in FM", url + "/live.mp3")]
    fm_station = got[1]
    assert fm_station["homePageUrl"] == "https://fm.example.org/" and fm_station["coverArt"] == fm_station["id"]
    assert "homePageUrl" not in got[0]
    listener.xml("getInternetRadioStations")

    assert listener.error("updateInternetRadioStation", {"id": fm_station["id"], "name": "x",
                                                         "streamUrl": url + "/live.mp3"})["code"] == 50
    owner.json("updateInternetRadioStation", {"id": fm_station["id"], "name": "Stand-in FM 2",
                                              "streamUrl": url + "/live.mp3"})
    renamed = next(s for s in stations(owner) if s["id"] == fm_station["id"])
    assert renamed["name"] == "Stand-in FM 2" and "homePageUrl" not in renamed  # not given: cleared
    assert listener.error("deleteInternetRadioStation", {"id": got[0]["id"]})["code"] == 50
    owner.json("deleteInternetRadioStation", {"id": got[0]["id"]})
    assert [s["name"] for s in stations(listener)] == ["Stand-in FM 2"]


@pytest.mark.parametrize("bad", ["ftp://example.org/live", "javascript:alert(1)", "http://user:pw@example.org/x",
                                 "http:///nohost", "not a url", "http://exa mple.org/", "http://x/" + "a" * 2001])
def test_bad_stream_urls_are_refused(owner, bad):
    before = stations(owner)
    assert owner.error("createInternetRadioStation", {"name": "Bad", "streamUrl": bad})["code"] == 0
    assert stations(owner) == before


def test_missing_and_unknown(owner):
    assert owner.error("createInternetRadioStation", {"name": "No URL"})["code"] == 10
    assert owner.error("createInternetRadioStation", {"streamUrl": "http://example.org/s"})["code"] == 10
    assert owner.error("updateInternetRadioStation", {"id": "ir-0000000000", "name": "x",
                                                      "streamUrl": "http://example.org/s"})["code"] == 70
    assert owner.error("deleteInternetRadioStation", {"id": "ir-0000000000"})["code"] == 70


def test_pictures_and_native_api(node, owner, fm):
    url, _ = fm
    with login(node, "owner") as admin, login(node, "lis") as lis:
        r = admin.post("/api/v1/stations", json={"name": "Pictured FM", "stream_url": url + "/live.ogg"})
        assert r.status_code == 201, r.text
        s = r.json()
        assert s["cover_url"] is None and s["play_url"] == f"/api/v1/stations/{s['id']}/stream"  # relayed here
        placeholder = owner.raw("getCoverArt", {"id": s["id"]}, fmt="")
        assert placeholder.headers["content-type"] == "image/png"
        picture = jpeg(120, (10, 200, 30))
        assert lis.put(f"/api/v1/stations/{s['id']}/cover", content=picture).status_code == 403
        assert admin.put(f"/api/v1/stations/{s['id']}/cover", content=b"<svg onload=alert(1)>").status_code == 400
        r = admin.put(f"/api/v1/stations/{s['id']}/cover", content=picture, headers={"Content-Type": "image/jpeg"})
        assert r.status_code == 200 and r.json()["cover_url"] == f"/api/v1/stations/{s['id']}/cover"
        art = owner.raw("getCoverArt", {"id": s["id"]}, fmt="")
        assert art.headers["content-type"] == "image/jpeg" and art.content == picture
        assert lis.get(f"/api/v1/stations/{s['id']}/cover").content == picture
        thumb = owner.raw("getCoverArt", {"id": s["id"], "size": 64}, fmt="")
        assert Image.open(io.BytesIO(thumb.content)).size == (64, 64)  # the picture is 120 px
        broken = b"\xff\xd8\xff" + b"not really a jpeg" * 10  # the right first bytes, no picture
        assert admin.put(f"/api/v1/stations/{s['id']}/cover", content=broken).status_code == 400
        assert lis.get("/api/v1/stations").json()["proxied"] is True
        assert lis.patch(f"/api/v1/stations/{s['id']}", json={"name": "x"}).status_code == 403
        assert admin.patch(f"/api/v1/stations/{s['id']}", json={"stream_url": "gopher://x"}).status_code == 400
        assert admin.delete(f"/api/v1/stations/{s['id']}/cover").status_code == 204
        assert admin.delete(f"/api/v1/stations/{s['id']}").status_code == 204
        assert admin.get(f"/api/v1/stations/{s['id']}").status_code == 404
        assert owner.error("getCoverArt", {"id": s["id"]})["code"] == 70


def test_the_relay_passes_the_stream_and_only_audio(node, fm):
    url, app = fm
    with login(node, "owner") as admin, login(node, "lis") as lis:
        ids = {}
        for name, path in (("Live", "/live.mp3"), ("Moved", "/moved.mp3"), ("Page", "/page.html"),
                           ("Gone", "/nothing.mp3")):
            ids[name] = admin.post("/api/v1/stations", json={"name": name, "stream_url": url + path}).json()["id"]
        mp3 = app.streams["/live.mp3"][0]
        before = app.listeners["/live.mp3"]
        for name in ("Live", "Moved"):
            with lis.stream("GET", f"/api/v1/stations/{ids[name]}/stream") as r:
                assert r.status_code == 200 and r.headers["content-type"].startswith("audio/mpeg")
                received = b""
                for chunk in r.iter_raw():
                    received += chunk
                    if len(received) >= 40_000:
                        break
            assert received[:40_000] == mp3[:40_000]
        assert app.listeners["/live.mp3"] == before + 2  # the node fetched it, once per listener
        page = lis.get(f"/api/v1/stations/{ids['Page']}/stream")
        assert page.status_code == 502 and page.json()["error"]["code"] == "not_audio"
        assert lis.get(f"/api/v1/stations/{ids['Gone']}/stream").status_code == 502
        with httpx.Client(base_url=node.url) as anonymous:
            assert anonymous.get(f"/api/v1/stations/{ids['Live']}/stream").status_code == 401
        # relayed: the app's CSP lets media come from this node only
        csp = lis.get("/").headers["content-security-policy"]
        assert re.search(r"media-src 'self' blob:;", csp), csp
        for ident in ids.values():
            admin.delete(f"/api/v1/stations/{ident}")
