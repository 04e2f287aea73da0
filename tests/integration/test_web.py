"""The web app's files as the node serves them (node/api/web.py), over loopback without a browser.

What the service worker precaches is exactly what /static/ serves (its install fails on a single
404); the icons browsers ask for by themselves at the root answer; a node without the web app says
so in a page that asks for no icon.
"""

import json
import re
import shutil
from pathlib import Path

import pytest

from sonantica.node.api import web
from tests.support.audio import make_track
from tests.support.node import init_node, running_node

WEB = Path(__file__).resolve().parents[2] / "web"


@pytest.fixture
def data(tmp_path, music):
    make_track(music / "Ana/Rec/01 - One.flac", "flac", {"title": "One", "artist": "Ana", "album": "Rec"}, seconds=1)
    return init_node(tmp_path / "data", music)


@pytest.fixture
def web_dir(tmp_path, monkeypatch):
    """A copy of web/ with what an install may carry besides: hidden files and folders, a nested index.html."""
    copy = tmp_path / "web"
    shutil.copytree(WEB, copy)
    (copy / ".cache").mkdir()
    (copy / ".cache" / "x.js").write_text("// an editor's or a tool's")
    (copy / "js" / ".app.js.swp").write_text("swap")
    (copy / "docs").mkdir()
    (copy / "docs" / "index.html").write_text("<!doctype html><title>notes</title>")
    monkeypatch.setattr(web, "WEB_DIR", copy)
    return copy


def _assets(sw: str) -> list[str]:
    return json.loads(re.search(r"^const ASSETS = (.*);$", sw, re.M).group(1))


async def test_every_precached_asset_is_served(data, web_dir):
    async with running_node(data) as node, node.client() as c:
        sw = (await c.get("/sw.js")).text
        version = re.search(r"^const VERSION = '(\w+)';$", sw, re.M).group(1)
        assets = _assets(sw)
        assert "docs/index.html" in assets and "js/app.js" in assets and "icons/favicon.ico" in assets
        assert not any(part.startswith(".") for a in assets for part in a.split("/")), assets
        assert not {"index.html", "sw.js", "manifest.webmanifest"} & set(assets)  # templates, at their own addresses
        for asset in assets:
            r = await c.get(f"/static/{version}/{asset}")
            assert r.status_code == 200, asset
            assert "immutable" in r.headers["cache-control"]
        for hidden in (".cache/x.js", "js/.app.js.swp", "index.html", "sw.js", "../pyproject.toml"):
            assert (await c.get(f"/static/{version}/{hidden}")).status_code == 404, hidden


async def test_icons_browsers_ask_for_by_themselves(data):
    async with running_node(data) as node, node.client() as c:
        r = await c.get("/favicon.ico")
        assert r.status_code == 200 and r.headers["content-type"] == "image/x-icon"
        assert r.content[:4] == b"\0\0\1\0"  # an ICO file, which every browser reads
        for name in ("/apple-touch-icon.png", "/apple-touch-icon-precomposed.png"):
            r = await c.get(name)
            assert r.status_code == 200 and r.headers["content-type"] == "image/png", name
        page = (await c.get("/")).text
        for href in re.findall(r'<link rel="(?:icon|apple-touch-icon)" href="([^"]+)"', page):
            assert (await c.get(href)).status_code == 200, href


async def test_without_the_web_app_the_page_asks_for_no_icon(data, tmp_path, monkeypatch):
    monkeypatch.setattr(web, "WEB_DIR", tmp_path / "no-web")
    async with running_node(data) as node, node.client() as c:
        r = await c.get("/")
        assert r.status_code == 200 and "1 tracks" in r.text
        assert '<link rel="icon" href="data:,">' in r.text  # else the browser asks /favicon.ico, which is not there
        assert (await c.get("/favicon.ico")).status_code == 404
