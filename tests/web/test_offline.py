"""Offline: download an album into Cache Storage, stop the node, reload the app and play the album."""

from __future__ import annotations

import re

from .conftest import open_context


def test_download_album_and_play_it_with_the_node_stopped(browser, web, fresh_node, shots):
    fresh_node.api("POST", "/api/v1/setup", {"username": "owner", "password": "correct horse battery"})
    fresh_node.wait_scanned(fresh_node.extra["tracks"])
    ctx = open_context(browser, fresh_node)
    page = ctx.new_page()
    page.goto("/albums")
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    page.locator(".card", has_text="Midnight Tides").click()
    page.wait_for_selector(".hero h1:text('Midnight Tides')")
    album_url = page.url
    page.click(".dl-btn")
    page.wait_for_selector(".dl-btn[data-state=saved]", timeout=20_000)
    page.evaluate("() => window.__sonantica.app.navigate('/downloads')")
    page.wait_for_selector(".download-item:has-text('Midnight Tides')")
    usage = page.evaluate("async () => (await navigator.storage.estimate()).usage")
    assert usage > 100_000
    assert "used" in page.inner_text(".quota")
    page.screenshot(path=shots / "desktop-downloads.png")

    fresh_node.stop()
    # the node is gone: its connections are refused, and the service worker answers the app's API calls 503
    web.expect_network_error("^" + re.escape(fresh_node.url))
    web.expect_http_error("^" + re.escape(fresh_node.url + "/api/v1/"), 503)
    page.goto(album_url)  # the shell comes from the service worker, the album's page from Cache Storage
    page.wait_for_selector(".hero h1:text('Midnight Tides')")
    page.click(".hero button:has-text('Play')")
    page.wait_for_function("() => window.__sonantica.player.el.currentTime > 0.5", timeout=15_000)
    t1 = page.evaluate("() => window.__sonantica.player.el.currentTime")
    page.wait_for_timeout(700)
    assert page.evaluate("() => window.__sonantica.player.el.currentTime") > t1 + 0.3
    # seeking in the cached file: the service worker answers Range requests
    page.evaluate("() => window.__sonantica.player.seek(6)")
    page.wait_for_function("() => window.__sonantica.player.el.currentTime >= 6")
    page.screenshot(path=shots / "desktop-offline-album.png")
    # removal frees the space
    page.evaluate("() => window.__sonantica.app.navigate('/downloads')")
    page.click(".download-item button[aria-label^='Remove']")
    page.wait_for_selector(".downloads .empty")
    assert page.evaluate("async () => (await (await caches.open('sonantica-offline-v1')).keys()).filter(r => r.url.includes('/offline/track/')).length") == 0
    ctx.close()
