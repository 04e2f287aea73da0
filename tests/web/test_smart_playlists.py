"""Smart playlists in the web app: create from rules with a live preview, the node's refusals shown
where they apply, edit a rule and see the songs change, delete.

The library (conftest.ALBUMS): Ambient albums are Aurora (2021, 4 songs), Copper Fields (2023, 3)
and Night Bus (2022, 2); the others are Electronic.
"""

from __future__ import annotations

from .conftest import Console, open_context

COPPER_FIELDS = {"Rust", "Ember Road", "Wheat"}
NIGHT_BUS = {"Last Stop", "Neon Rain"}


def _titles(page, scope: str) -> set[str]:
    return {t.strip() for t in page.locator(f"{scope} .track .ttitle").all_inner_texts()}


def test_smart_playlist_create_preview_edit_delete(browser, library_node, shots):
    console = Console()
    ctx = open_context(browser, library_node)
    page = ctx.new_page()
    console.attach(page)
    page.goto("/playlists")
    page.click("a:has-text('New smart playlist')")
    page.wait_for_selector("h1:text('New smart playlist')")

    # one rule: the preview follows as it is typed
    page.fill("input[name=name]", "Recent ambient")
    page.select_option("[aria-label='Rule 1: field']", "genre")
    page.select_option("[aria-label='Rule 1: condition']", "is")
    page.fill("[aria-label='Rule 1: value']", "Ambient")
    page.wait_for_selector(".smart-grid .chip:text('9 songs')")

    # a second rule the node refuses (a year that is not a number): said once for the form, and on the rule
    console.paused = True  # the refusals are HTTP 400s, which Chromium logs
    page.click("button:has-text('Add rule')")
    page.select_option("[aria-label='Rule 2: field']", "year")
    page.select_option("[aria-label='Rule 2: condition']", "gt")
    page.wait_for_selector("#smart-error:has-text('is not a number')")
    page.wait_for_selector(".rule.invalid .rule-error:has-text('is not a number')")
    assert page.locator(".rule.invalid").count() == 1
    assert page.locator(".rule").nth(1).get_attribute("class").endswith("invalid")
    assert page.get_attribute("[aria-label='Rule 2: value']", "aria-invalid") is not None
    page.fill("[aria-label='Rule 2: value']", "2021")
    page.wait_for_selector(".smart-grid .chip:text('5 songs')")
    assert page.locator(".rule.invalid").count() == 0 and page.inner_text("#smart-error") == ""
    assert _titles(page, ".smart-preview") == COPPER_FIELDS | NIGHT_BUS
    # a limit out of range: the node's message, no rule blamed
    page.fill("input[name=limit]", "0")
    page.wait_for_selector("#smart-error:has-text('limit must be')")
    assert page.locator(".rule.invalid").count() == 0
    page.fill("input[name=limit]", "")
    page.wait_for_selector(".smart-grid .chip:text('5 songs')")
    page.wait_for_timeout(300)
    console.paused = False
    page.screenshot(path=shots / "desktop-smart-editor.png")

    # create: the playlist page lists the matching songs and says the rules
    page.click("button:has-text('Create')")
    page.wait_for_selector(".hero .eyebrow:text('Smart playlist')")
    page.wait_for_selector(".hero h1:text('Recent ambient')")
    assert _titles(page, ".playlist-tracks") == COPPER_FIELDS | NIGHT_BUS
    assert page.inner_text(".hero .smart-rules") == "Genre is Ambient and Year is more than 2021 · by title"
    page.wait_for_selector(".sidebar-playlists a:has-text('Recent ambient')")

    # edit a rule: after 2022 only Copper Fields is left
    page.click("a:has-text('Edit rules')")
    page.wait_for_selector("h1:text('Edit smart playlist')")
    assert page.input_value("[aria-label='Rule 2: value']") == "2021"
    page.fill("[aria-label='Rule 2: value']", "2022")
    page.wait_for_selector(".smart-grid .chip:text('3 songs')")
    page.click("button:has-text('Save')")
    page.wait_for_selector(".hero .smart-rules:has-text('more than 2022')")
    assert _titles(page, ".playlist-tracks") == COPPER_FIELDS
    page.screenshot(path=shots / "desktop-smart-playlist.png")

    # delete, after a confirmation
    page.click("a:has-text('Edit rules')")
    page.click("button:has-text('Delete')")
    page.click("dialog button:has-text('Delete')")
    page.wait_for_selector("main h1:text('Playlists')")
    assert page.locator("main .card", has_text="Recent ambient").count() == 0
    names = [p["name"] for p in page.request.get("/api/v1/playlists").json()["items"]]
    assert "Recent ambient" not in names
    ctx.close()
    console.check()
