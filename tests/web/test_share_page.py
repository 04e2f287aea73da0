"""Share links in real Chromium: the app's Share action makes a link and copies it; a visitor with no
account opens it and the player plays; expired and revoked links are 404 pages; the Shares page revokes."""

from __future__ import annotations

import json
import time

from .conftest import open_context


def api(node, method: str, path: str, body=None, *, cookie: str):
    if body and body.get("expires_at") == "soon":  # computed once signed in: a sign-in may take a while
        body = {**body, "expires_at": int(time.time() * 1000) + 2500}
    status, _, data = node.api(method, path, body, cookie=cookie)
    return status, (json.loads(data) if data else None)


def visit(browser, node):
    ctx = open_context(browser, node, signed_in=False)
    assert ctx.cookies() == []  # no session at all
    return ctx.new_page()


def test_share_an_album_from_the_app_and_play_it_without_an_account(browser, library_node, shots):
    node = library_node
    ctx = open_context(browser, node)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=node.url)
    page = ctx.new_page()
    page.goto("/albums")
    page.locator(".card", has_text="Midnight Tides").click()
    page.wait_for_selector(".hero h1:text('Midnight Tides')")
    page.click(".hero .row.actions .btn-icon")  # ⋯ More album actions
    page.click(".menu .menu-item:has-text('Share')")
    page.fill(".share-dialog input[name=description]", "For the <em>ferry</em> ride")
    page.check(".share-dialog input[name=downloadable]")
    page.click(".share-dialog button[type=submit]")
    link = page.wait_for_selector(".share-dialog .share-link").input_value()
    assert link.startswith(node.url + "/s/")
    page.click(".share-dialog .copy-btn")
    page.wait_for_selector(".share-dialog .copy-btn:has-text('Copied')")
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    page.screenshot(path=shots / "share-dialog.png")
    ctx.close()

    guest = visit(browser, node)
    guest.goto(link)
    guest.wait_for_selector("h1:text('Midnight Tides')")
    assert "For the <em>ferry</em> ride" in guest.inner_text(".description")  # shown as text
    assert guest.locator("ol.tracks li").count() == 3
    guest.wait_for_function("() => document.querySelector('img.cover').naturalWidth > 0")
    guest.click("a.play:has-text('Harbour Lights')")
    guest.wait_for_function("() => { const a = document.getElementById('player'); return a.currentTime > 0.2 && a.readyState >= 2; }")
    assert guest.get_attribute("a.play:has-text('Harbour Lights')", "aria-current") is not None
    assert guest.locator("a.dl").count() == 3
    guest.screenshot(path=shots / "share-page.png")
    assert guest.context.cookies() == []  # the visit gave no session either
    guest.context.close()


def test_revoked_and_expired_links_are_404_pages_and_the_shares_page_revokes(browser, web, library_node, shots):
    node = library_node
    cookie = node.login_cookie()
    _, albums = api(node, "GET", "/api/v1/albums?limit=50", cookie=cookie)
    glass = next(a["id"] for a in albums["items"] if a["name"] == "Glass Garden")
    status, revoked = api(node, "POST", "/api/v1/shares", {"ids": [glass]}, cookie=cookie)
    assert status == 201
    api(node, "DELETE", f"/api/v1/shares/{revoked['id']}", cookie=cookie)
    _, expiring = api(node, "POST", "/api/v1/shares", {"ids": [glass], "expires_at": "soon"}, cookie=cookie)
    _, kept = api(node, "POST", "/api/v1/shares", {"ids": [glass], "description": "keep me for now"}, cookie=cookie)

    guest = visit(browser, node)
    assert guest.goto(kept["url"]).status == 200
    deadline = time.monotonic() + 10
    with web.expect_http_error(r"/s/", 404):
        assert guest.goto(revoked["url"]).status == 404
        while guest.goto(expiring["url"]).status != 404:
            assert time.monotonic() < deadline, "the link never expired"
            time.sleep(0.2)
        assert "expired" in guest.inner_text("body") or "not_found" in guest.inner_text("body")
    guest.context.close()

    # the owner sees every share and revokes one from the app
    page = open_context(browser, node).new_page()
    page.goto("/shares?all=1")
    row = page.locator(".share-row", has_text="keep me for now")
    row.wait_for()
    assert page.locator(".share-row.expired").count() >= 1  # the expired link is listed as such
    row.locator("button:has-text('Revoke')").click()
    page.click("dialog .btn.danger")
    row.wait_for(state="detached")
    page.screenshot(path=shots / "shares-page.png")
    page.context.close()
    with web.expect_http_error(r"/s/", 404):
        guest = visit(browser, node)
        assert guest.goto(kept["url"]).status == 404
        guest.context.close()
    _, listed = api(node, "GET", "/api/v1/shares?all=true", cookie=cookie)
    assert kept["id"] not in {s["id"] for s in listed["items"]}
