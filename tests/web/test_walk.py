"""A new user's first walk through the app, on a freshly scanned node: not one console error, warning,
uncaught error, failed request or HTTP error (the ``web`` watch in conftest fails the test on any).

The node is new: no users (the owner is created in the first-run form), no plays, no playlists, no
federation members. Its library is what people have: albums with and without covers, several formats,
a compilation, an untagged file, lyrics for one song only, a copy cut short (analysis can never give
it a waveform) and a file that is not audio at all; tracks still waiting for analysis when the walk begins.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.audio import jpeg, make_track

from .conftest import LRC, Node, free_port, open_context

OWNER, OWNER_PASSWORD = "mia", "a long enough password"


def _library(music: Path) -> int:
    """Write the library; returns how many files the scan will index."""
    n = 0

    def track(rel: str, fmt: str, tags: dict, cover: bytes | None = None, seed: int = 0) -> None:
        nonlocal n
        make_track(music / rel, fmt, tags=tags, seconds=6.0, sr=22050, channels=1, cover=cover, seed=seed)
        n += 1

    art = jpeg(300, (230, 90, 70))
    for i, title in enumerate(["Aurora", "Borealis", "Cirrus"]):  # FLAC, embedded cover, LRC for the first
        track(f"Nova Quartet/Aurora/{i + 1:02d} {title}.flac", "flac",
              {"title": title, "artist": "Nova Quartet", "albumartist": "Nova Quartet", "album": "Aurora",
               "tracknumber": str(i + 1), "date": "2021", "genre": "Ambient"}, cover=art, seed=i)
    (music / "Nova Quartet/Aurora/01 Aurora.lrc").write_text(LRC)
    # a copy cut short: its tags read, its audio does not decode to the end (no waveform, ever)
    whole = music / "Nova Quartet/Aurora/04 Dawn Chorus.flac"
    track(whole.relative_to(music).as_posix(), "flac",
          {"title": "Dawn Chorus", "artist": "Nova Quartet", "albumartist": "Nova Quartet", "album": "Aurora",
           "tracknumber": "4", "date": "2021", "genre": "Ambient"}, cover=art, seed=4)
    whole.write_bytes(whole.read_bytes()[: whole.stat().st_size // 3])
    for i, title in enumerate(["Paper Boats", "Low Tide", "Kite String"]):  # MP3, no cover anywhere
        track(f"Ines Arden/Paper Boats/{i + 1:02d} {title}.mp3", "mp3",
              {"title": title, "artist": "Ines Arden", "albumartist": "Ines Arden", "album": "Paper Boats",
               "tracknumber": str(i + 1), "date": "2020", "genre": "Folk"}, seed=10 + i)
    for i, title in enumerate(["Field Notes", "Margins"]):  # Ogg Vorbis, a folder image, no genre, no year
        track(f"Ines Arden/Field Notes/{i + 1:02d} {title}.ogg", "ogg",
              {"title": title, "artist": "Ines Arden", "albumartist": "Ines Arden", "album": "Field Notes",
               "tracknumber": str(i + 1)}, seed=20 + i)
    (music / "Ines Arden/Field Notes/cover.jpg").write_bytes(jpeg(400, (60, 140, 90)))
    (music / "Compilations/Late Night Radio").mkdir(parents=True)
    (music / "Compilations/Late Night Radio/folder.jpg").write_bytes(b"")  # an empty picture, as copies leave them
    for i, (title, artist) in enumerate([("Static Bloom", "Kilo Echo"), ("Slow Lights", "Mira Sol")]):  # AAC compilation
        track(f"Compilations/Late Night Radio/{i + 1:02d} {title}.m4a", "m4a",
              {"title": title, "artist": artist, "albumartist": "Various Artists", "album": "Late Night Radio",
               "tracknumber": str(i + 1), "date": "2019", "genre": "Electronic", "compilation": "1"}, seed=30 + i)
    track("untitled recording.wav", "wav", {}, seed=40)  # no tags at all
    (music / "notes.mp3").write_bytes(b"ID3 this is not audio" * 20)  # a scan error for the status page
    return n


@pytest.fixture
def new_node(tmp_path):
    """A node just set up with `sonantica init` and `serve`d: no users, its first scan under way."""
    music = tmp_path / "music"
    count = _library(music)
    from sonantica.node import cli

    assert cli.main(["--data", str(tmp_path / "data"), "init", "--name", "Mia's music", "--music", str(music)]) == 0
    node = Node(tmp_path / "data", free_port(), tmp_path / "serve.log")
    node.start()
    node.extra["tracks"] = count
    yield node
    node.stop()


def settle(page) -> None:
    """The page is rendered and every image it shows has answered (loaded or failed)."""
    page.wait_for_function("() => document.querySelector('main .page') && !document.querySelector('main[aria-busy]')")
    page.wait_for_function("""() => [...document.images].every((i) => {
      const r = i.getBoundingClientRect();  // lazy images out of view are not asked for
      return !i.getAttribute('src') || i.complete || r.bottom < 0 || r.top > innerHeight || r.right < 0 || r.left > innerWidth || !r.width;
    })""")
    page.wait_for_timeout(300)


def visit(page, href: str, ready: str) -> None:
    """Go to a page the way a user does (a link of the app), and wait for ``ready`` on it."""
    page.evaluate("p => window.__sonantica.app.navigate(p)", href)
    page.wait_for_selector(ready)
    settle(page)


def scan_finished(page, tracks: int) -> None:
    for _ in range(300):
        s = page.request.get("/api/v1/scan").json()
        if not s["scanning"] and s["library"]["tracks"] >= tracks:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the first scan did not finish: {s}")


def test_first_walk_on_a_new_node_is_clean(browser, web, new_node, shots):
    ctx = open_context(browser, new_node, signed_in=False)
    page = ctx.new_page()

    # first run: the owner is created in the app
    page.goto("/")
    page.wait_for_selector("form.auth-card button:text('Create owner account')")
    page.fill("input[name=username]", OWNER)
    page.fill("input[name=password]", OWNER_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".sidebar")
    settle(page)
    scan_finished(page, new_node.extra["tracks"])
    analysis = page.request.get("/api/v1/analysis").json()
    print("analysis when the walk began:", {k: analysis.get(k) for k in ("queued", "running", "done", "failed", "analysed", "total")})

    # every page of the sidebar, as they come
    visit(page, "/", "main h1")
    visit(page, "/albums", "main .card:has-text('Paper Boats')")
    visit(page, "/artists", "main .artist-card:has-text('Ines Arden')")
    visit(page, "/genres", "main .genre-tile:has-text('Folk')")
    page.click("main .genre-tile:has-text('Folk')")
    page.wait_for_selector("main .card:has-text('Paper Boats')")
    settle(page)
    visit(page, "/tracks", "main .track:has-text('Kite String')")
    visit(page, "/starred", "main h1:text('Starred')")
    visit(page, "/playlists", "main h1:text('Playlists')")
    visit(page, "/playlists/smart", "main h1:text('New smart playlist')")
    page.fill("input[name=name]", "Folk")
    page.select_option("[aria-label='Rule 1: field']", "genre")
    page.select_option("[aria-label='Rule 1: condition']", "is")
    page.fill("[aria-label='Rule 1: value']", "Folk")
    page.wait_for_selector(".smart-grid .chip:text('3 songs')")
    settle(page)
    visit(page, "/queue", "main h1:text('Queue')")
    visit(page, "/downloads", "main h1:text('Downloads')")
    visit(page, "/status", "main h1")
    page.wait_for_selector("text=Files the scan could not read")
    visit(page, "/federation", "main h2:text('Not in a federation yet')")
    visit(page, "/stats", "main h1:text('Your stats')")
    visit(page, "/settings", "main h1")
    page.screenshot(path=shots / "walk-settings.png")

    # search as you type
    page.click("#top-search")
    page.keyboard.type("ines", delay=30)
    page.wait_for_selector(".search-results .card:has-text('Field Notes')")
    settle(page)

    # an album with a cover, one without, a compilation; an artist without any image
    visit(page, "/albums", "main .card:has-text('Aurora')")
    page.click("main .card:has-text('Aurora')")
    page.wait_for_selector(".hero h1:text('Aurora')")
    settle(page)
    visit(page, "/albums", "main .card:has-text('Late Night Radio')")
    page.click("main .card:has-text('Late Night Radio')")
    page.wait_for_selector(".hero h1:text('Late Night Radio')")
    settle(page)
    visit(page, "/albums", "main .card:has-text('Paper Boats')")
    page.click("main .card:has-text('Paper Boats')")
    page.wait_for_selector(".hero h1:text('Paper Boats')")
    settle(page)
    page.screenshot(path=shots / "walk-album-without-cover.png")
    page.click(".hero a:text('Ines Arden')")
    page.wait_for_selector(".hero h1:text('Ines Arden')")
    settle(page)
    page.go_back()
    page.wait_for_selector(".hero h1:text('Paper Boats')")
    settle(page)

    # play a song of the album without a cover; now playing (no lyrics for it), the queue
    page.locator(".track", has_text="Low Tide").dblclick()
    page.wait_for_function("() => window.__sonantica.player.position > 1")
    visit(page, "/now", ".lyrics .no-lyrics")
    page.wait_for_timeout(500)  # the seek bar asks for the song's peaks
    page.screenshot(path=shots / "walk-now-playing.png")
    visit(page, "/queue", "main .track:has-text('Kite String')")
    visit(page, "/", "main .resume")
    page.evaluate("() => window.__sonantica.player.pause()")

    # a reload on a deep link (the service worker answers the navigation), and the untagged file
    page.reload()
    page.wait_for_selector(".sidebar")
    settle(page)
    visit(page, "/tracks", "main .track:has-text('untitled recording')")
    ctx.close()


@pytest.fixture
def federated(tmp_path):
    """A and B in one federation; B holds an album with a cover and one without. The test stops B."""
    from tests.support.federation import make_node, stop_all, wait_for

    a, b = make_node(tmp_path, "A"), make_node(tmp_path, "B")
    for node, rel, fmt, title, cover in [
            (a, "Ana Lumen/Porch Songs/01 Kettle.flac", "flac", "Kettle", jpeg(200, (220, 120, 60))),
            (b, "Bo Harbor/Far Lights/01 Lantern.flac", "flac", "Lantern", jpeg(200, (60, 110, 210))),
            (b, "Bo Harbor/Night Ferry/01 Crossing.mp3", "mp3", "Crossing", None)]:
        artist, album = rel.split("/")[:2]
        make_track(node.music / rel, fmt, tags={"title": title, "artist": artist, "albumartist": artist, "album": album,
                                                "tracknumber": "1"}, seconds=6, sr=22050, channels=1, cover=cover, seed=len(title))
    nodes = [a, b]
    try:
        for n in nodes:
            n.start()
        b.join(a.invite())
        with a.client() as client:
            wait_for(lambda: len(client.get("/api/v1/tracks").json()["items"]) == 3, what="B's songs on A")
            wait_for(lambda: {(m["name"], m["online"]) for m in client.get("/api/v1/federation/members").json()["items"]}
                     == {("Node A", True), ("Node B", True)}, what="both members named and online")
        yield a, b
    finally:
        stop_all(nodes)


def spanish_federation_page(browser, a) -> None:
    """The federation page and a member's album in Spanish: members, tiles, badges, not a word of English."""
    from .test_i18n import TRACE, library_names, untranslated

    ctx = open_context(browser, Node(a.data, a.port, a.data / "serve.log"), locale="es-ES")
    ctx.add_init_script(TRACE)
    page = ctx.new_page()
    page.goto("/federation")
    page.wait_for_selector("main .member:has-text('Node B') .chip.live")
    settle(page)
    names = library_names(page)
    bad = untranslated(page, names)
    visit(page, "/albums", "main .card:has-text('Far Lights')")
    page.click("main .card:has-text('Far Lights')")
    page.wait_for_selector(".hero .from-node")
    settle(page)
    assert bad + untranslated(page, names) == []
    ctx.close()


def test_walk_on_a_node_in_a_federation_is_clean(browser, federated):
    a, b = federated
    ctx = open_context(browser, Node(a.data, a.port, a.data / "serve.log"))
    page = ctx.new_page()
    page.goto("/")
    page.wait_for_selector("main h1")
    settle(page)

    def walk(albums: tuple[str, ...]) -> None:
        visit(page, "/albums", "main .card:has-text('Night Ferry')")
        visit(page, "/artists", "main .artist-card:has-text('Bo Harbor')")
        visit(page, "/tracks", "main .track:has-text('Crossing')")
        visit(page, "/federation", "main .member:has-text('Node B')")
        for album in albums:
            visit(page, "/albums", f"main .card:has-text('{album}')")
            page.click(f"main .card:has-text('{album}')")
            page.wait_for_selector(f".hero h1:text('{album}')")
            settle(page)
        page.click("#top-search")
        page.fill("#top-search", "")
        page.keyboard.type("bo", delay=30)
        page.wait_for_selector(".search-results .card:has-text('Far Lights')")
        settle(page)

    walk(("Far Lights", "Night Ferry", "Porch Songs"))  # a member's album with a cover, one without; ours
    spanish_federation_page(browser, a)
    visit(page, "/stats", "main h1:text('Your stats')")
    # a member's song, streamed through this node; now playing (members' lyrics stay with them) and the queue
    visit(page, "/albums", "main .card:has-text('Night Ferry')")
    page.click("main .card:has-text('Night Ferry')")
    page.locator(".track", has_text="Crossing").dblclick()
    page.wait_for_function("() => window.__sonantica.player.position > 1", timeout=15_000)
    visit(page, "/now", ".np-title:text('Crossing')")
    page.wait_for_timeout(500)
    visit(page, "/queue", "main .track:has-text('Crossing')")
    page.evaluate("() => window.__sonantica.player.pause()")

    # B goes away: its music is still listed here, and nothing asked of it shows as an error
    b.stop()
    walk(("Far Lights", "Night Ferry"))
    ctx.close()
