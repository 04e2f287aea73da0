"""Resume: a long track paused in one browser starts at the same place in another (the bookmark is on the
node), a finished one starts from the beginning again, and a short one keeps no bookmark."""

from __future__ import annotations

import json
import time

import pytest

from tests.support.audio import jpeg, make_track
from tests.support.node import init_node

from .conftest import Node, free_port, open_context

LONG_S = 11 * 60


@pytest.fixture(scope="module")
def resume_node(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("resume")
    music = tmp / "music"
    common = {"artist": "Night Shift", "albumartist": "Night Shift", "album": "Long Mixes", "date": "2024"}
    make_track(music / "01 Whole Night.flac", tags={**common, "title": "Whole Night", "tracknumber": "1"},
               seconds=LONG_S, sr=8000, channels=1, cover=jpeg(64), seed=5)
    make_track(music / "02 Short Break.flac", tags={**common, "title": "Short Break", "tracknumber": "2"},
               seconds=12, sr=8000, channels=1, seed=6)
    init_node(tmp / "data", music)
    node = Node(tmp / "data", free_port(), tmp / "serve.log")
    node.start()
    node.wait_scanned(2)
    yield node
    node.stop()


def bookmarks(node: Node, cookie: str) -> dict[str, int]:
    _, _, body = node.api("GET", "/api/v1/bookmarks", cookie=cookie)
    return {b["track"]["title"]: b["position_ms"] for b in json.loads(body)["items"]}


def wait_for(fn, what: str, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = fn()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def play_album(page) -> None:
    page.goto("/albums")
    page.locator(".card", has_text="Long Mixes").click()
    page.wait_for_selector(".hero h1:text('Long Mixes')")
    page.click(".hero button:has-text('Play')")


def now(page) -> float:
    return page.evaluate("() => window.__sonantica.player.position")


def test_a_long_track_resumes_on_another_device(browser, resume_node, shots):
    cookie = resume_node.login_cookie()
    phone = open_context(browser, resume_node).new_page()
    play_album(phone)
    phone.wait_for_function("() => window.__sonantica.player.el.currentTime > 0.3")
    assert phone.inner_text(".pb-title") == "Whole Night"
    phone.evaluate("() => window.__sonantica.player.seek(300)")
    phone.wait_for_function("() => window.__sonantica.player.position > 300.3")
    phone.click(".play-btn")  # pause: the place is saved at once
    paused_at = now(phone)
    saved = wait_for(lambda: bookmarks(resume_node, cookie).get("Whole Night"), "the bookmark")
    assert abs(saved / 1000 - paused_at) < 1.0, (saved, paused_at)
    phone.context.close()

    laptop = open_context(browser, resume_node).new_page()  # nothing in its storage: only the node knows
    play_album(laptop)
    laptop.wait_for_function("() => window.__sonantica.player.el.currentTime > 0 && !window.__sonantica.player.el.paused")
    laptop.wait_for_function(f"() => window.__sonantica.player.position > {paused_at + 0.2}")
    assert abs(now(laptop) - paused_at) < 5, (now(laptop), paused_at)
    laptop.screenshot(path=shots / "resumed.png")

    # played to the end: the bookmark goes, and the next play starts at the beginning
    laptop.evaluate(f"() => window.__sonantica.player.seek({LONG_S - 1.5})")
    laptop.wait_for_function("() => window.__sonantica.player.current?.title === 'Short Break'", timeout=15_000)
    wait_for(lambda: "Whole Night" not in bookmarks(resume_node, cookie), "the finished track's bookmark to go")

    # a short track keeps none
    laptop.wait_for_function("() => window.__sonantica.player.position > 1")
    laptop.click(".play-btn")
    time.sleep(0.5)  # the pause has been handled (and sent nothing)
    assert bookmarks(resume_node, cookie) == {}
    laptop.context.close()
