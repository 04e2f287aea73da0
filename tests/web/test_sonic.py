"""Sonic radio from any song and a sonic path between two songs, from a song's menu (real node, Chromium)."""

from __future__ import annotations

import time

from .conftest import open_context


def _analysed(page, tracks: int, timeout: float = 120) -> None:
    """The sonic vectors exist once the analysis has reached every song (a fresh node works on them)."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = page.request.get("/api/v1/analysis").json()
        if status["analysed"] >= tracks and status["pending"] == 0 and status["running"] == 0:
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"analysis did not finish: {status}")


def _menu(page, title: str, action: str) -> None:
    row = page.locator("main .track", has_text=title).first
    row.hover()
    row.locator(".row-more[aria-label^='More actions']").click()
    page.click(f".menu .menu-item:has-text('{action}')")


def queue(page) -> list[str]:
    return page.evaluate("() => window.__sonantica.player.queue.map(t => t.title)")


def test_sonic_radio_and_a_path_to_another_song(browser, library_node, shots):
    ctx = open_context(browser, library_node)
    page = ctx.new_page()
    page.goto("/albums")
    _analysed(page, library_node.extra["tracks"])
    page.locator(".card", has_text="Midnight Tides").click()
    page.wait_for_selector(".hero h1:text('Midnight Tides')")

    _menu(page, "Undertow", "Sonic radio")
    page.wait_for_function("() => window.__sonantica.player.queue.length > 1")
    radio = queue(page)
    assert radio[0] == "Undertow" and "Undertow" not in radio[1:]
    assert len(radio) == library_node.extra["tracks"]  # the song, then every other song, nearest first
    page.wait_for_function("() => window.__sonantica.player.el.currentTime > 0.2")
    assert page.inner_text(".pb-title") == "Undertow"
    page.wait_for_selector(".toast:has-text('Sonic radio from “Undertow”')")

    _menu(page, "Salt", "Path to…")
    dialog = page.locator("dialog[open]")
    assert dialog.locator("h2").inner_text() == "A sonic path from “Salt” to…"
    dialog.locator("input[type=search]").type("pris", delay=30)
    dialog.locator(".choice", has_text="Prism").click()
    page.wait_for_function("() => window.__sonantica.player.queue[0].title === 'Salt'")
    path = queue(page)
    assert path[0] == "Salt" and path[-1] == "Prism" and 2 <= len(path) <= 12 and len(set(path)) == len(path)
    assert page.locator("dialog[open]").count() == 0
    page.wait_for_function("() => document.querySelector('.pb-title').textContent === 'Salt'")
    page.screenshot(path=shots / "sonic-path.png")
    ctx.close()
