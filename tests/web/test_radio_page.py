"""Internet radio in real Chromium: a station on another origin (a stand-in Icecast on loopback) plays
from the Radio page under the app's CSP, which allows that origin in media-src and nothing more; an
admin adds a station with a picture through the form."""

from __future__ import annotations

import json

import pytest

from sonantica.node.api.app import CSP
from tests.support.audio import jpeg
from tests.support.radio import station

from .conftest import open_context


@pytest.fixture(scope="module")
def fm(tmp_path_factory):
    with station(tmp_path_factory.mktemp("station")) as running:
        yield running


def directives(csp: str) -> dict[str, str]:
    return {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}


def test_a_station_plays_from_its_own_origin_under_the_csp(browser, library_node, fm, shots, tmp_path):
    node = library_node
    url, app = fm
    cookie = node.login_cookie()
    status, _, body = node.api("POST", "/api/v1/stations", {"name": "Stand-in FM", "stream_url": url + "/live.mp3",
                                                            "homepage_url": "https://fm.example.org/"}, cookie=cookie)
    assert status == 201
    first = json.loads(body)
    ctx = open_context(browser, node)
    page = ctx.new_page()
    shell = page.goto("/radio")
    csp, base = directives(shell.headers["content-security-policy"]), directives(CSP)
    assert csp["media-src"] == f"media-src 'self' blob: {url}"  # the station's origin, in media-src only
    assert {k: v for k, v in csp.items() if k != "media-src"} == {k: v for k, v in base.items() if k != "media-src"}

    row = page.locator(".station-row", has_text="Stand-in FM")
    row.locator(".play-station").click()
    page.wait_for_function("() => { const a = window.__sonantica.radio.audio; return a.currentTime > 0.3 && a.readyState >= 2; }")
    assert app.listeners["/live.mp3"] >= 1  # fetched from the station itself, not through the node
    assert row.locator(".play-station").inner_text().strip() == "Stop"
    page.screenshot(path=shots / "radio.png")

    row.locator(".play-station").click()  # Stop
    page.wait_for_function("() => !window.__sonantica.radio.station")

    # an admin adds a station with a picture; the page reloads so that its address is allowed
    picture = tmp_path / "fm.jpg"
    picture.write_bytes(jpeg(96, (200, 40, 90)))
    page.click(".radio-page .page-header .btn.primary")
    page.fill(".station-dialog input[name=name]", "Ogg Vorbis FM")
    page.fill(".station-dialog input[name=stream_url]", url.replace("127.0.0.1", "localhost") + "/live.ogg")
    page.set_input_files(".station-dialog input[name=picture]", str(picture))
    with page.expect_navigation():
        page.click(".station-dialog button[type=submit]")
    added = page.locator(".station-row", has_text="Ogg Vorbis FM")
    added.wait_for()
    page.wait_for_function("() => [...document.querySelectorAll('.station-row img')].some((i) => i.naturalWidth > 0)")
    added.locator(".play-station").click()
    page.wait_for_function("() => { const a = window.__sonantica.radio.audio; return a.currentTime > 0.3 && a.readyState >= 2; }")
    origin = url.replace("127.0.0.1", "localhost")
    assert origin in page.evaluate("() => fetch('/radio').then((r) => r.headers.get('content-security-policy'))")
    page.context.close()

    _, _, body = node.api("GET", "/api/v1/stations", cookie=cookie)
    for s in json.loads(body)["items"]:
        node.api("DELETE", f"/api/v1/stations/{s['id']}", cookie=cookie)
    assert first["play_url"] == first["stream_url"]  # no relay on this node
