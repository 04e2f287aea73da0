"""A library of 10,050 albums in the web app: windowed lists, paged loading, keyboard, Back.

A real node scans 10,050 real (tiny) FLAC files, one album each (tests/support/many_albums.py).
In Chromium: the album grid's scroll bar is right from the start, scrolling screen by screen shows
every album in order, a jump to the bottom reaches the last album, the number of cards in the page
stays bounded the whole time, covers loading move nothing, End/Home/arrows walk the whole grid, Back
returns to the same place; the Songs list behaves the same with 10,050 rows.
"""

from __future__ import annotations

import pytest

from tests.support.many_albums import album_title, make_many_albums
from tests.support.node import init_node

from .conftest import Node, free_port, open_context

N = 10_050
MAX_IN_DOM = 300

# Counts the items of every windowed list after each DOM change (the most there ever were), and the
# cumulative layout shift of the page.
WATCH = """
window.__vl = { max: 0, cls: 0 };
new MutationObserver(() => {
  let n = 0;
  for (const l of document.querySelectorAll('son-vlist')) n = Math.max(n, l.childElementCount);
  window.__vl.max = Math.max(window.__vl.max, n);
}).observe(document, { childList: true, subtree: true });
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (!e.hadRecentInput) window.__vl.cls += e.value;
}).observe({ type: 'layout-shift', buffered: true });
"""

# The labels of the items in view (null for a placeholder), once the items cover the whole view.
VISIBLE = """async (sel) => {
  await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  const items = [...document.querySelectorAll(sel)];
  if (!items.length) return [null];
  const view = document.querySelector('main').getBoundingClientRect(), list = items[0].parentElement.getBoundingClientRect();
  const want = [Math.max(view.top + 72, list.top), Math.min(view.bottom, list.bottom)];  // 72: below the floating top bar
  const inView = items.filter((e) => { const r = e.getBoundingClientRect(); return r.bottom > want[0] && r.top < want[1]; });
  const edges = inView.map((e) => e.getBoundingClientRect());
  const covered = inView.length && Math.min(...edges.map((r) => r.top)) <= want[0] + 1
    && Math.max(...edges.map((r) => r.bottom)) >= want[1] - 30;  // 30: the gap between two rows
  return covered ? inView.map((e) => e.classList.contains('skeleton') ? null : e.getAttribute('aria-label')) : [null];
}"""
SETTLED = f"async () => (await ({VISIBLE})('son-vlist > *')).every(Boolean)"


@pytest.fixture(scope="module")
def big_node(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bignode")
    make_many_albums(tmp / "music", N)
    init_node(tmp / "data", tmp / "music")
    node = Node(tmp / "data", free_port(), tmp / "serve.log")
    node.start()
    try:
        node.wait_scanned(N, timeout=120)
        yield node
    finally:
        node.stop()


def _numbers(labels: list[str | None], prefix: str) -> list[int]:
    assert None not in labels, f"placeholders still in view: {labels}"
    return [int(label.split()[1]) for label in labels if label.startswith(prefix)]


def test_ten_thousand_albums_scroll_windowed(browser, big_node, shots):
    ctx = open_context(browser, big_node)
    ctx.add_init_script(WATCH)
    page = ctx.new_page()
    page.goto("/albums")
    page.wait_for_selector("son-vlist .card[aria-posinset='1']:has-text('Album 00000')")
    page.wait_for_selector(".card .cover.loaded img")  # the first covers arrive
    page.wait_for_timeout(300)
    first_height = page.evaluate("document.querySelector('main').scrollHeight")

    # screen by screen: every album in view is there (no placeholder left), in order, none skipped
    seen = []
    for _ in range(8):
        page.evaluate("() => { const m = document.querySelector('main'); m.scrollBy(0, m.clientHeight * 0.9); }")
        page.wait_for_function(SETTLED)
        labels = page.evaluate(VISIBLE, "son-vlist > *")
        numbers = _numbers(labels, "Album")
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), numbers
        assert not seen or numbers[0] <= seen[-1] + 1, "a screen of albums was skipped"
        seen += numbers
    assert seen[-1] > 100

    # drag the scroll bar to the bottom: the last album shows, and it is the last of N
    page.evaluate("() => { const m = document.querySelector('main'); m.scrollTop = m.scrollHeight; }")
    last = page.wait_for_selector(f"son-vlist .card[aria-label^='{album_title(N - 1)} ']", timeout=15_000)
    assert last.get_attribute("aria-posinset") == str(N) and last.get_attribute("aria-setsize") == str(N)
    page.wait_for_function(SETTLED)
    assert _numbers(page.evaluate(VISIBLE, "son-vlist > *"), "Album")[-1] == N - 1
    page.wait_for_timeout(400)
    page.screenshot(path=shots / "desktop-albums-10k-end.png")
    final_height = page.evaluate("document.querySelector('main').scrollHeight")
    assert abs(final_height - first_height) < 0.01 * final_height, (first_height, final_height)  # the scroll bar was right

    # keyboard: Home to the first album, arrows, End to the last, across the whole grid
    last.focus()
    page.keyboard.press("Home")
    page.wait_for_function("() => document.activeElement?.getAttribute('aria-label')?.startsWith('Album 00000 ')")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowDown")
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    cols = page.evaluate("() => [...document.querySelectorAll('son-vlist > .card')].filter((c) => c.style.transform.endsWith(', 0px)')).length")
    assert label.startswith(album_title(1 + cols) + " ")
    assert page.evaluate("() => { const r = document.activeElement.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }")
    page.keyboard.press("End")
    page.wait_for_function(f"() => document.activeElement?.getAttribute('aria-label')?.startsWith('{album_title(N - 1)} ')")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')").startswith(album_title(N - 2) + " ")

    # an album in the middle, then Back: the grid is where it was
    page.evaluate("() => { const m = document.querySelector('main'); m.scrollTop = m.scrollHeight / 2; }")
    page.wait_for_function(SETTLED)
    middle = _numbers(page.evaluate(VISIBLE, "son-vlist > *"), "Album")[0]
    page.locator(f"son-vlist .card[aria-label^='{album_title(middle)} ']").click()
    page.wait_for_selector(f".hero h1:text('{album_title(middle)}')")
    page.go_back()
    page.wait_for_selector(f"son-vlist .card[aria-label^='{album_title(middle)} ']")
    page.wait_for_function(SETTLED)
    assert middle in _numbers(page.evaluate(VISIBLE, "son-vlist > *"), "Album")

    # Tab from the sort menu enters the grid at an album in view, not at one rendered above it
    # (items rendered beyond the view for smooth scrolling are inert): at most the partly hidden
    # top row is brought fully into view
    in_view = _numbers(page.evaluate(VISIBLE, "son-vlist > *"), "Album")
    before = page.evaluate("document.querySelector('main').scrollTop")
    page.evaluate("document.querySelector(\"select[aria-label='Sort albums']\").focus({preventScroll: true})")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.getAttribute('aria-label') || ''")
    assert focused.startswith("Album ") and int(focused.split()[1]) in in_view, (focused, in_view)
    row = page.evaluate("document.querySelector('son-vlist > .card').offsetHeight")
    assert before - page.evaluate("document.querySelector('main').scrollTop") < 2.5 * row

    stats = page.evaluate("window.__vl")
    assert 0 < stats["max"] < MAX_IN_DOM, stats
    assert stats["cls"] < 0.01, stats  # covers and pages arriving move nothing
    ctx.close()


def test_ten_thousand_songs_and_the_artists(browser, big_node):
    ctx = open_context(browser, big_node)
    ctx.add_init_script(WATCH)
    page = ctx.new_page()
    page.goto("/tracks")
    page.wait_for_selector("son-vlist .track[aria-posinset='1']:has-text('Song 00000')")
    page.evaluate("() => { const m = document.querySelector('main'); m.scrollTop = m.scrollHeight; }")
    last = page.wait_for_selector(f"son-vlist .track[aria-posinset='{N}']", timeout=15_000)
    assert "Song 10049" in last.inner_text()
    assert last.get_attribute("aria-setsize") == str(N)
    # a row plays with Enter, and ↑ walks up even past the rows that were rendered
    last.focus()
    for _ in range(30):
        page.keyboard.press("ArrowUp")
    assert "Song 10019" in page.evaluate("document.activeElement.innerText")
    page.keyboard.press("Enter")
    page.wait_for_function("() => window.__sonantica.player.current?.title === 'Song 10019'")
    page.evaluate("() => window.__sonantica.player.pause()")

    page.evaluate("() => window.__sonantica.app.navigate('/artists')")
    page.wait_for_selector("son-vlist .artist-card[aria-posinset='1']")
    page.evaluate("() => { const m = document.querySelector('main'); m.scrollTop = m.scrollHeight; }")
    page.wait_for_selector("son-vlist .artist-card[aria-label='Artist 0399']")
    stats = page.evaluate("window.__vl")
    assert 0 < stats["max"] < MAX_IN_DOM, stats
    ctx.close()
