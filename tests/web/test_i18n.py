"""The web app in Spanish: chosen in Settings (or from the browser's language), every page a user walks
shows Spanish only, apart from what the library itself names (titles, artists, albums, genres, lyrics).

How "Spanish only" is judged: the app's i18n module records every string it produced (messages from the
catalogue, numbers and dates from Intl) in ``window.__sonantica.i18nTrace`` when a test asks for it. Every
text a user can see or hear on a page (text, ``aria-label``, ``title``, ``placeholder``, ``alt``, the
document's title) must be one of those, a name from the library, or free of words (numbers, times,
punctuation, single-letter keys), piece by piece between the separators the app joins with (" · ", " — ").
An English string hard-coded in the app, a key the Spanish catalogue lacks (shown in English) and a
missing key's marker (⟦key⟧) all fail this.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .conftest import LRC, open_context

TRACE = "window.__sonantica = Object.assign(window.__sonantica || {}, { i18nTrace: new Set() });"
ROOT = Path(__file__).resolve().parents[2]

# Every string of the page a user can meet, with where it is: text, labels, titles, placeholders.
VISIBLE_STRINGS = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('script, style, noscript, code, .mono')) continue;
    const s = n.nodeValue.trim();
    if (s) out.push([s, el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : '')]);
  }
  for (const el of document.querySelectorAll('[aria-label], [title], [placeholder], img[alt]')) {
    for (const a of ['aria-label', 'title', 'placeholder', 'alt']) {
      const s = (el.getAttribute(a) || '').trim();
      if (s && !el.closest('code, .mono')) out.push([s, `${el.tagName.toLowerCase()}[${a}]`]);  // ids, keys, paths
    }
  }
  out.push([document.title, 'title']);
  return { strings: out, trace: [...(window.__sonantica.i18nTrace || [])] };
}"""

SEPARATORS = re.compile(r"\s+[·—–]\s+|,\s+|:\s+|\s+/\s+")
WORD = re.compile(r"[A-Za-zÀ-ÿ]+")
BRAND = {"Sonántica"}
CODECS = re.compile(r"^(FLAC|MP3|OGG|OPUS|M4A|AAC|ALAC|WAV|VORBIS|BPM|LUFS|dB|RG)$")


def wordless(text: str) -> bool:
    """Digits, marks and lone letters (keys such as "N / P") only."""
    return all(len(w) == 1 for w in WORD.findall(text))


def library_names(page) -> set[str]:
    """What the node's library, users and nodes are called: shown as they are in every language."""
    names = set(BRAND)
    for path, fields in [("/api/v1/tracks?limit=500", ("title", "artist", "album", "album_artist", "path")),
                         ("/api/v1/albums?limit=500", ("name", "artist")), ("/api/v1/artists?limit=500", ("name",)),
                         ("/api/v1/genres", ("name",)), ("/api/v1/playlists", ("name", "owner")),
                         ("/api/v1/folders", ("name",)),  # music folders (Settings → People)
                         ("/api/v1/scan/errors", ("path", "reason"))]:  # the node's own words stay English
        for item in page.request.get(path).json().get("items", []):
            for f in fields:
                if item.get(f):
                    names.add(str(item[f]))
            names.update(item.get("genres") or [])
    me = page.request.get("/api/v1/me").json()["user"]
    names.add(me["name"])
    names.update(u["name"] for u in page.request.get("/api/v1/users").json().get("users", []))  # People
    names.add(page.request.get("/api/v1/setup").json()["name"])
    members = page.request.get("/api/v1/federation/members")
    if members.ok:
        names.update(m["name"] for m in members.json().get("items", []) if m.get("name"))
        names.add(members.json().get("name") or "")
    names.update(re.sub(r"^\[[^\]]*\]", "", line).strip() for line in LRC.splitlines())
    return {n for n in names if n}


def untranslated(page, names: set[str]) -> list[str]:
    """The strings on the page that are neither the app's Spanish, nor the library's names, nor wordless."""
    found = page.evaluate(VISIBLE_STRINGS)
    produced = set(found["trace"])
    bad = []
    for text, where in found["strings"]:
        if "⟦" in text:
            bad.append(f"{where}: {text!r} (a missing key)")
            continue
        if text in produced or text in names:
            continue
        pieces = [p.strip(" .…“”\"'()") for p in SEPARATORS.split(text)]
        if all(not p or p in produced or p in names or wordless(p) or CODECS.match(p) for p in pieces):
            continue
        bad.append(f"{where}: {text!r}")
    return sorted(set(bad))


def settle(page) -> None:
    page.wait_for_function("() => document.querySelector('main .page') && !document.querySelector('main[aria-busy]')")
    page.wait_for_timeout(150)


def visit(page, href: str, ready: str = "main .page") -> None:
    page.evaluate("p => window.__sonantica.app.navigate(p)", href)
    page.wait_for_selector(ready)
    settle(page)


def choose_spanish(page) -> None:
    """As a user does: Settings → Language → Español (the app reloads in it)."""
    page.goto("/settings")
    page.wait_for_selector("select[name=language]")
    assert page.evaluate("document.documentElement.lang") == "en"
    with page.expect_navigation():
        page.select_option("select[name=language]", "es")
    page.wait_for_selector(".sidebar")
    settle(page)
    assert page.evaluate("document.documentElement.lang") == "es"


def walk(page, names: set[str], pages: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Every page: what it shows that is not Spanish."""
    found = {}
    for href, ready in pages:
        visit(page, href, ready)
        bad = untranslated(page, names)
        if bad:
            found[href] = bad
    return found


MAIN_PAGES = [("/", "main h1"), ("/albums", "main .card"), ("/artists", "main .artist-card"), ("/genres", "main .genre-tile"),
              ("/genre/Ambient", "main .card"), ("/tracks", "main .track"), ("/starred", "main h1"),
              ("/playlists", "main h1"), ("/playlists/smart", "main h1"), ("/queue", "main h1"), ("/now", "main .np-title"),
              ("/downloads", "main h1"), ("/settings", "main h1"), ("/status", "main .panel"), ("/federation", "main h1"),
              ("/stats", "main h1"), ("/search?q=nova", ".search-results .card"), ("/nowhere", "main h1"),
              ("/shares", "main .page"), ("/radio", "main .page"), ("/podcasts", "main .page")]
ES = json.loads((ROOT / "web/i18n/es.json").read_text("utf-8"))


def test_the_app_in_spanish_has_no_english_left(browser, library_node, shots):
    ctx = open_context(browser, library_node)  # an English browser: Spanish is chosen in Settings
    ctx.add_init_script(TRACE)
    page = ctx.new_page()
    choose_spanish(page)
    names = library_names(page)
    cookie = library_node.login_cookie()
    _, _, body = library_node.api("POST", "/api/v1/playlists", {"name": "Viaje"}, cookie=cookie)
    playlist = json.loads(body)["id"]
    _, _, body = library_node.api("POST", "/api/v1/stations", {"name": "Radio Nube", "stream_url": "http://127.0.0.1:9/nube.mp3"},
                                  cookie=cookie)
    station = json.loads(body)["id"]
    share = None
    try:
        albums = page.request.get("/api/v1/albums?limit=50").json()["items"]
        aurora = next(a for a in albums if a["name"] == "Aurora")
        page.request.post(f"/api/v1/playlists/{playlist}/tracks",
                          data={"track_ids": [t["id"] for t in page.request.get(f"/api/v1/albums/{aurora['id']}").json()["tracks"]]})
        aurora_ids = [aurora["id"]]
        share = page.request.post("/api/v1/shares", data={"ids": aurora_ids, "description": "Para Ana"}).json()["id"]
        names.update({"Viaje", "Radio Nube", "Para Ana", "http://127.0.0.1:9/nube.mp3"})
        assert page.inner_text("nav.tabbar") and "Inicio" in page.inner_text(".sidebar")

        found = walk(page, names, MAIN_PAGES[:1])
        # a song playing: the player bar, now playing with its lyrics, the queue
        visit(page, f"/album/{aurora['id']}", ".hero h1")
        found |= walk(page, names, [(f"/album/{aurora['id']}", ".hero h1"), (f"/artist/{aurora['artist_id']}", ".hero h1"),
                                    (f"/playlist/{playlist}", ".hero h1")])
        page.locator(".track", has_text="Borealis").first.dblclick()
        page.wait_for_function("() => window.__sonantica.player.position > 0.5")
        page.evaluate("() => window.__sonantica.player.pause()")
        found |= walk(page, names, MAIN_PAGES[1:])
        page.screenshot(path=shots / "es-stats.png")
        # menus and dialogs
        visit(page, f"/album/{aurora['id']}", ".hero h1")
        page.locator(".track .row-more").first.click()
        page.wait_for_selector(".menu")
        bad = untranslated(page, names)
        page.keyboard.press("Escape")
        page.click(".hero .btn-icon")
        page.wait_for_selector(".menu")
        bad += untranslated(page, names)
        page.click(f".menu-item:has-text('{ES['action.add_to_playlist']}')")
        page.wait_for_selector("dialog[open]")
        bad += untranslated(page, names)
        page.keyboard.press("Escape")
        page.wait_for_selector("dialog[open]", state="detached")
        page.click(".hero .btn-icon")
        page.click(f".menu-item:has-text('{ES['sharing.action']}')")
        page.wait_for_selector("dialog[open]")
        bad += untranslated(page, names)
        page.keyboard.press("Escape")
        if bad:
            found["menus"] = bad
        assert found == {}, json.dumps(found, ensure_ascii=False, indent=1)
        assert page.evaluate("document.documentElement.lang") == "es"
    finally:
        library_node.api("DELETE", f"/api/v1/playlists/{playlist}", cookie=cookie)
        library_node.api("DELETE", f"/api/v1/stations/{station}", cookie=cookie)
        if share:
            library_node.api("DELETE", f"/api/v1/shares/{share}", cookie=cookie)
    ctx.close()


def test_a_spanish_browser_gets_spanish_and_english_stays_a_choice(browser, library_node):
    ctx = open_context(browser, library_node, locale="es-MX")
    page = ctx.new_page()
    page.goto("/")
    page.wait_for_selector(".sidebar")
    assert page.evaluate("document.documentElement.lang") == "es"
    assert page.inner_text(".sidebar a[href='/starred']") == "Favoritos"
    visit(page, "/settings", "select[name=language]")
    assert page.eval_on_selector("select[name=language]", "s => [...s.options].map((o) => o.textContent)") == [
        "Como el navegador (Español)", "English", "Español"]
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    page.wait_for_selector(".sidebar")
    assert page.evaluate("document.documentElement.lang") == "en"
    assert page.inner_text(".sidebar a[href='/starred']") == "Starred"
    ctx.close()


def test_a_key_missing_in_spanish_is_found(browser, web, library_node):
    """The check above fails when the Spanish catalogue lacks a key: it shows in English (and warns)."""
    es = json.loads((ROOT / "web/i18n/es.json").read_text("utf-8"))
    del es["nav.genres"]
    ctx = open_context(browser, library_node, locale="es-ES", service_workers="block")  # page.route sees no worker's fetch
    ctx.add_init_script(TRACE)
    ctx.route(re.compile(r"/static/[^/]+/i18n/es\.json$"), lambda route: route.fulfill(
        status=200, content_type="application/json", body=json.dumps(es)))
    page = ctx.new_page()
    with web.expect_console(r'^i18n: "nav\.genres" is missing in es$'):
        page.goto("/")
        page.wait_for_selector(".sidebar")
        settle(page)
    assert "span: 'Genres'" in untranslated(page, library_names(page))
    ctx.close()
