"""Every main page renders without console errors, on desktop and phone, dark and light; screenshots are kept."""

from __future__ import annotations

import json
import struct

from .conftest import open_context

PAGES = [("home", "/"), ("albums", "/albums"), ("artists", "/artists"), ("genres", "/genres"), ("songs", "/tracks"),
         ("search", "/search?q=nova"), ("playlists", "/playlists"), ("queue", "/queue"), ("downloads", "/downloads"),
         ("settings", "/settings"), ("status", "/status"), ("federation", "/federation"), ("stats", "/stats")]


def test_main_pages_desktop_and_phone(browser, library_node, shots):
    ctx = open_context(browser, library_node)
    page = ctx.new_page()
    page.goto("/")
    page.wait_for_selector(".card .cover.loaded img")
    for name, path in PAGES:
        page.evaluate("p => window.__sonantica.app.navigate(p)", path)
        page.wait_for_function("p => document.querySelector('main .page') && !document.querySelector('main[aria-busy]')", arg=path)
        page.wait_for_timeout(450)  # the page's entrance animation
        page.screenshot(path=shots / f"desktop-{name}.png")
    # the album page, its covers in aspect-ratio boxes (no layout shift), and now playing
    page.evaluate("() => window.__sonantica.app.navigate('/albums')")
    page.locator(".card", has_text="Aurora").first.click()
    page.wait_for_selector(".hero h1:text('Aurora')")
    page.wait_for_selector(".hero .cover.loaded")
    page.wait_for_timeout(450)
    page.screenshot(path=shots / "desktop-album.png")
    boxes = page.eval_on_selector_all(".album-tracks .track", "rows => rows.length")
    assert boxes == 4
    page.locator(".track", has_text="Aurora").first.dblclick()
    page.wait_for_function("() => window.__sonantica.player.position > 1.2")
    page.evaluate("() => window.__sonantica.app.navigate('/now')")
    page.wait_for_selector(".lyric.active")
    page.wait_for_timeout(450)
    page.screenshot(path=shots / "desktop-now-playing.png")
    page.evaluate("() => window.__sonantica.player.pause()")
    ctx.close()

    light = open_context(browser, library_node, theme="light")
    page = light.new_page()
    page.goto("/albums")
    page.wait_for_selector(".card .cover.loaded img")
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    page.wait_for_timeout(450)
    page.screenshot(path=shots / "desktop-albums-light.png")
    light.close()

    phone = open_context(browser, library_node, viewport=(390, 844), mobile=True)
    page = phone.new_page()
    for name, path in [("home", "/"), ("albums", "/albums"), ("search", "/search?q=tides"), ("playlists", "/playlists")]:
        page.goto(path)
        page.wait_for_selector("main .page")
        page.wait_for_timeout(200)
        page.screenshot(path=shots / f"phone-{name}.png")
    assert page.is_visible(".tabbar") and not page.is_visible(".sidebar")
    phone.close()


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", data[:8]
    return struct.unpack(">II", data[16:24])


def test_manifest_and_service_worker_register(browser, library_node):
    ctx = open_context(browser, library_node)
    page = ctx.new_page()
    page.goto("/")
    href = page.get_attribute("link[rel=manifest]", "href")
    r = page.request.get(href)
    assert r.ok and r.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(r.text())
    assert manifest["display"] == "standalone" and manifest["start_url"] == "/"
    for icon in manifest["icons"]:
        r = page.request.get(icon["src"])
        assert r.ok and r.headers["content-type"].split(";")[0] == icon["type"], icon
        if icon["sizes"] != "any":
            assert png_size(r.body()) == tuple(map(int, icon["sizes"].split("x"))), icon
    assert {i["purpose"] for i in manifest["icons"]} >= {"any", "maskable"}
    assert {i["sizes"] for i in manifest["icons"] if i["type"] == "image/png"} >= {"192x192", "512x512"}  # installable
    # every icon the page links answers; so do those browsers ask for by themselves, without a link
    for href in page.eval_on_selector_all("link[rel~=icon], link[rel=apple-touch-icon]", "ls => ls.map((l) => l.href)"):
        assert page.request.get(href).ok, href
    ico = page.request.get("/favicon.ico")
    assert ico.ok and ico.headers["content-type"] == "image/x-icon" and ico.body()[:4] == b"\0\0\1\0"
    for touch in ("/apple-touch-icon.png", "/apple-touch-icon-precomposed.png"):
        r = page.request.get(touch)
        assert r.ok and png_size(r.body()) == (180, 180), touch
    page.wait_for_function("async () => !!(await navigator.serviceWorker.getRegistration())")
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    scope = page.evaluate("async () => (await navigator.serviceWorker.getRegistration()).scope")
    assert scope == library_node.url + "/"
    sw = page.request.get("/sw.js")
    assert sw.headers["service-worker-allowed"] == "/" and sw.headers["cache-control"] == "no-cache"
    # versioned assets are immutable; the shell is not
    css = page.get_attribute("link[rel=stylesheet]", "href")
    assert "immutable" in page.request.get(css).headers["cache-control"]
    assert page.request.get("/albums").headers["cache-control"] == "no-cache"
    assert page.request.get("/api/v1/nope").status == 404
    ctx.close()


def test_scan_progress_arrives_live_and_errors_show_for_admins(browser, library_node):
    ctx = open_context(browser, library_node)
    page = ctx.new_page()
    page.goto("/status")
    page.wait_for_selector("text=Files the scan could not read")
    assert "broken.flac" in page.inner_text(".table")
    page.wait_for_function("() => window.__sonantica.app.events?.readyState === 1")  # EventSource open
    page.wait_for_timeout(200)
    page.click("button:has-text('Full rescan')")
    # scan.finished comes over server-sent events
    page.wait_for_function("() => !!window.__sonantica.app.state.live.last", timeout=20_000)
    page.wait_for_selector(".chip:text('Idle')")
    ctx.close()


def test_leaving_the_status_page_as_live_news_arrives_throws_nothing(browser, library_node):
    """A live event (scan or analysis progress) redraws the status page 200 ms later; leaving meanwhile
    cancels that redraw's request, which must not surface as an uncaught error (the watch fails on one)."""
    ctx = open_context(browser, library_node)
    page = ctx.new_page()
    page.goto("/status")
    page.wait_for_selector("text=Files the scan could not read")
    for _ in range(3):
        page.evaluate("""() => {
          window.__sonantica.app.live.dispatchEvent(new Event('change'));  // as each server-sent event does
          window.__sonantica.app.navigate('/albums');
        }""")
        page.wait_for_selector("main .card")
        page.wait_for_timeout(400)
        page.evaluate("() => window.__sonantica.app.navigate('/status')")
        page.wait_for_selector("text=Files the scan could not read")
    ctx.close()
