"""Playlists: create, drag to reorder (saved on the node), rename, export."""

from __future__ import annotations

from .conftest import open_context


def test_playlist_drag_reorder(browser, library_node, shots):
    ctx = open_context(browser, library_node)
    page = ctx.new_page()
    tracks = page.request.get("/api/v1/tracks?sort=title&limit=4").json()["items"]
    ids = [t["id"] for t in tracks]
    titles = [t["title"] for t in tracks]
    pl = page.request.post("/api/v1/playlists", data={"name": "Drag me", "track_ids": ids}).json()
    page.goto(f"/playlist/{pl['id']}")
    page.wait_for_selector(".playlist-tracks .track")
    rows = page.locator(".playlist-tracks .track")
    # drag the first song below the third
    src = rows.nth(0)
    dst = rows.nth(2)
    box = dst.bounding_box()
    src.drag_to(dst, target_position={"x": box["width"] / 2, "y": box["height"] - 4})
    expected = [titles[1], titles[2], titles[0], titles[3]]
    page.wait_for_function("n => document.querySelectorAll('.playlist-tracks .track .ttitle')[2].textContent.startsWith(n)", arg=titles[0])
    page.wait_for_timeout(300)
    saved = page.request.get(f"/api/v1/playlists/{pl['id']}").json()
    assert [t["title"] for t in saved["tracks"]] == expected
    # keyboard reorder: Alt+ArrowUp on the focused row
    page.focus(".playlist-tracks .track >> nth=3")
    page.keyboard.press("Alt+ArrowUp")
    page.wait_for_timeout(300)
    saved = page.request.get(f"/api/v1/playlists/{pl['id']}").json()
    assert [t["title"] for t in saved["tracks"]] == [titles[1], titles[2], titles[3], titles[0]]
    page.screenshot(path=shots / "desktop-playlist.png")
    # export
    r = page.request.get(f"/api/v1/playlists/{pl['id']}/export?format=m3u8")
    assert r.ok and "#EXTM3U" in r.text()
    ctx.close()
