"""The Podcasts page in Chromium: subscribe by URL, episodes arrive, play, download, mark played, delete,
unsubscribe; a feed's text is shown as text; a refused feed says why. Against the stand-in podcast host."""

from __future__ import annotations

import pytest

from tests.support.feeds import feed_host, rss

from .conftest import open_context


@pytest.fixture(scope="module")
def host(tmp_path_factory):
    with feed_host(tmp_path_factory.mktemp("webfeeds")) as h:
        base = h.base
        h.set("/web.xml", rss(base, "Web Waves", [
            {"title": "Fresh one", "guid": "w2", "date": "Wed, 02 Dec 2026 08:00:00 GMT", "url": f"{base}/audio/ep3.mp3",
             "duration": "0:03"},
            {"title": '&lt;img src=x onerror="window.__pwned=1"&gt; Older', "guid": "w1",
             "date": "Tue, 01 Dec 2026 08:00:00 GMT", "url": f"{base}/audio/ep1.mp3"},
        ]), "application/rss+xml")
        yield h


def test_subscribe_play_download_mark_and_unsubscribe(browser, library_node, host, web, shots):
    ctx = open_context(browser, library_node)
    page = ctx.new_page()
    page.goto("/podcasts")
    page.get_by_role("link", name="Podcasts").first.wait_for()
    # a page that is not a feed: refused, with the reason, nothing added
    with web.expect_http_error(r"/api/v1/podcasts$", 400):
        page.fill("input[name=url]", host.url("/page.html"))
        page.click("form.subscribe button[type=submit]")
        page.get_by_text("text/html").wait_for()
    page.fill("input[name=url]", host.url("/web.xml"))
    page.click("form.subscribe button[type=submit]")
    page.wait_for_url("**/podcast/pc-*")
    page.get_by_role("heading", name="Web Waves").wait_for()
    rows = page.locator(".episodes .episode")
    assert rows.count() == 2
    # the feed's text is text: the would-be tag is shown, not made
    assert '<img src=x onerror="window.__pwned=1"> Older' in rows.nth(1).inner_text()
    assert page.locator(".episodes img").count() == 0 and page.evaluate("() => window.__pwned") is None
    # the newest is downloaded by itself; the page follows its status, then it plays in the player
    page.wait_for_selector('.episode[data-status="completed"] .play-episode')
    page.get_by_role("button", name="Play “Fresh one”").click()
    page.wait_for_function("() => window.__sonantica.player.el.currentTime > 0.3")
    assert "/api/v1/podcasts/episodes/" in page.evaluate("() => window.__sonantica.player.el.src")
    page.evaluate("() => window.__sonantica.player.pause()")  # heard to its end later, it would mark itself played
    page.screenshot(path=shots / "podcast-channel.png")
    # download the older one by hand
    older = rows.nth(1)
    older.get_by_role("button", name="Download").click()
    page.wait_for_selector('.episode[data-status="completed"] >> nth=1')
    # played: a mark of this user, kept by the node
    page.get_by_role("button", name="Mark “Fresh one” played").click()
    page.get_by_role("button", name="Mark “Fresh one” not played").wait_for()
    channel_id = page.url.rsplit("/", 1)[1]
    episodes = page.request.get(f"/api/v1/podcasts/{channel_id}").json()["items"]
    assert [e["played"] for e in episodes] == [True, False]
    # delete a download: the episode stays, removed
    page.locator(".episode").nth(1).get_by_role("button", name="Delete").click()
    page.wait_for_selector('.episode[data-status="deleted"]')
    # unsubscribe
    page.get_by_role("button", name="Unsubscribe").click()
    page.locator("dialog[open] button", has_text="Unsubscribe").click()
    page.wait_for_url("**/podcasts")
    page.get_by_text("No podcasts yet.").wait_for()
    assert page.request.get("/api/v1/podcasts").json()["items"] == []
    ctx.close()
