"""The federation page against two real nodes (``sonantica serve`` subprocesses joined through the CLI).

A holds one album, B another; B joins A with `sonantica invite` / `sonantica join`. In Chromium on A:
sign in, see both members online, create an invite in the UI (a third node joins with it), browse B's
music from its member card, see the "Node B" source badge, play B's track through A, pin B's album.
"""

from __future__ import annotations

import json

import pytest

from tests.support.audio import jpeg, make_track
from tests.support.federation import make_node, stop_all, wait_for
from tests.support.node import PASSWORD

from .conftest import open_context


def _album(music, artist, album, titles, colour, seed):
    for i, title in enumerate(titles):
        make_track(music / artist / album / f"{i + 1:02d} {title}.flac",
                   tags={"title": title, "artist": artist, "albumartist": artist, "album": album, "tracknumber": str(i + 1)},
                   seconds=10, sr=22050, channels=1, cover=jpeg(200, colour), seed=seed + i)


@pytest.fixture
def federation(tmp_path):
    a, b = make_node(tmp_path, "A"), make_node(tmp_path, "B")
    _album(a.music, "Ana Lumen", "Porch Songs", ["Kettle", "Screen Door"], (220, 120, 60), 1)
    _album(b.music, "Bo Harbor", "Far Lights", ["Lantern", "Ferry", "Tide Clock"], (60, 110, 210), 10)
    nodes = [a, b]
    try:
        a.start(), b.start()
        b.join(a.invite())
        with a.client() as c:
            wait_for(lambda: len(c.get("/api/v1/tracks").json()["items"]) == 5, what="B's music on A")
            wait_for(lambda: {(m["name"], m["online"]) for m in c.get("/api/v1/federation/members").json()["items"]}
                     == {("Node A", True), ("Node B", True)}, what="both members named and online")
        yield a, b, tmp_path, nodes
    finally:
        stop_all(nodes)


def test_federation_page_members_invite_source_badge_and_playback(browser, federation, shots):
    a, b, tmp, nodes = federation
    ctx = open_context(browser, a, signed_in=False)
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=a.url)
    page = ctx.new_page()

    # sign in through the form
    page.goto("/")
    page.fill("input[name=username]", "owner")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(".sidebar a[href='/federation']")

    # the federation page: both members, by name, online, with their numbers
    page.click(".sidebar a[href='/federation']")
    page.wait_for_selector(".member[data-node]")
    cards = page.locator(".member")
    assert cards.count() == 2
    for name in ("Node A", "Node B"):
        card = page.locator(".member", has=page.locator(".member-name", has_text=name))
        assert card.locator(".chip.state").inner_text() == "Online"
        assert "is-online" in card.get_attribute("class")
    card_b = page.locator(".member", has=page.locator(".member-name", has_text="Node B"))
    assert card_b.locator(".mstat", has_text="Songs").locator("dd").inner_text() == "3"
    assert card_b.locator(".mstat", has_text="Latency").locator("dd").inner_text().endswith("ms")
    assert card_b.locator("button", has_text="Revoke").is_visible()
    assert page.locator(".member", has=page.locator(".tag.self")).locator(".member-name").inner_text() == "Node A"

    page.wait_for_timeout(500)  # the page's entrance animation
    page.screenshot(path=shots / "federation.png")

    # an invite made in the UI: shown once in a monospace block, copyable, and accepted by a third node
    page.fill("input[name=uses]", "2")
    page.select_option("select[name=ttl]", "7d")
    page.click("button:has-text('Create invite')")
    code = page.wait_for_selector(".invite-code").inner_text().strip()
    assert code.startswith("snt1") and " " not in code
    assert "monospace" in page.eval_on_selector(".invite-code", "e => getComputedStyle(e).fontFamily")
    assert "2 uses" in page.inner_text(".invite-card")
    page.click(".copy-btn")
    page.wait_for_selector(".copy-btn:has-text('Copied')")
    assert page.evaluate("navigator.clipboard.readText()") == code
    from sonantica.protocol.invites import Invite

    Invite.from_code(code)  # parses (and is signed)
    c = make_node(tmp, "C")
    nodes.append(c)
    c.start()
    joined = c.join(code)
    assert joined.returncode == 0, joined.stderr
    page.locator(".invite-card").scroll_into_view_if_needed()
    page.screenshot(path=shots / "federation-invite.png")

    # music per member: B's card links to B's folder; the rows carry the "Node B" source badge
    card_b.locator("a", has_text="Browse music").click()
    page.wait_for_selector("main h1:text('Music from Node B')")
    rows = page.locator("main .track")
    assert rows.count() == 3
    badges = page.locator("main .track .source-badge")
    assert badges.count() == 3 and set(badges.all_inner_texts()) == {"Node B"}
    page.wait_for_timeout(450)
    page.screenshot(path=shots / "federation-member-music.png")

    # play B's track through A: currentTime advances, now playing shows the source
    page.locator("main .track", has_text="Lantern").dblclick()
    page.wait_for_function("() => window.__sonantica.player.position > 1.0", timeout=20_000)
    page.evaluate("() => window.__sonantica.app.navigate('/now')")
    page.wait_for_selector(".np-info .source-badge:text('Node B')")
    assert page.inner_text(".playerbar .pb-artist .source-badge") == "Node B"
    page.wait_for_timeout(450)
    page.screenshot(path=shots / "federation-now-playing.png")
    page.evaluate("() => window.__sonantica.player.pause()")

    # the album page says where it comes from, and an admin can keep a copy (pin)
    page.evaluate("() => window.__sonantica.app.navigate('/albums')")
    page.locator(".card", has_text="Far Lights").first.click()
    page.wait_for_selector(".hero .chip.from-node")
    assert page.inner_text(".hero .chip.from-node") == "from Node B"
    page.click(".pin-btn")
    page.wait_for_selector(".pin-btn[data-state=pinned]")
    page.wait_for_timeout(400)
    page.screenshot(path=shots / "federation-album.png")
    page.evaluate("() => window.__sonantica.app.navigate('/federation')")
    page.wait_for_selector(".pin-row:has-text('Far Lights')")
    # local tracks carry no badge
    page.evaluate("() => window.__sonantica.app.navigate('/tracks')")
    page.wait_for_selector("main .track")
    local = page.locator("main .track", has_text="Kettle")
    assert local.locator(".source-badge").count() == 0
    ctx.close()
    with a.client() as client:
        pins = client.get("/api/v1/federation/pins").json()["items"]
        assert [p["name"] for p in pins] == ["Far Lights"]
        members = client.get("/api/v1/federation/members").json()
    print(json.dumps({"members": [m["name"] for m in members["items"]]}))


@pytest.fixture
def three_nodes(tmp_path):
    """A founds a federation that C joined through the CLI; B is on its own, for the UI to join."""
    a, b, c = make_node(tmp_path, "A"), make_node(tmp_path, "B"), make_node(tmp_path, "C")
    _album(a.music, "Ana Lumen", "Porch Songs", ["Kettle", "Screen Door"], (220, 120, 60), 1)
    _album(b.music, "Bo Harbor", "Far Lights", ["Lantern", "Ferry"], (60, 110, 210), 10)
    _album(c.music, "Cy Moor", "Low Fields", ["Heather", "Peat"], (90, 160, 90), 20)
    nodes = [a, b, c]
    try:
        for n in nodes:
            n.start()
        c.join(a.invite())
        yield a, b, c
    finally:
        stop_all(nodes)


def _titles(page) -> set[str]:
    page.evaluate("() => window.__sonantica.app.navigate('/tracks')")
    page.wait_for_selector("main .track[data-id]")
    return set(page.locator("main .track[data-id] .ttitle").all_inner_texts())


def test_federation_join_revoke_and_leave_in_the_ui(browser, three_nodes, shots):
    a, b, c = three_nodes

    # B's owner pastes an invite A made, and joins: A's and C's music show up on B
    ctx_b = open_context(browser, b)
    page_b = ctx_b.new_page()
    page_b.goto("/federation")
    page_b.wait_for_selector("h2:text('Not in a federation yet')")
    page_b.fill("textarea[name=code]", a.invite())
    page_b.click("form.join-form button:has-text('Join')")
    page_b.wait_for_selector(".toast:text('Joined the federation')")
    page_b.wait_for_selector(".member[data-node] .member-name:text('Node A')")
    assert page_b.locator(".member .tag.self").count() == 1
    assert page_b.locator(".member", has=page_b.locator(".tag.self")).locator(".member-name").inner_text() == "Node B"
    page_b.wait_for_function("() => document.querySelectorAll('.member[data-node]').length === 3", timeout=20_000)
    wait_for(lambda: {"Kettle", "Screen Door", "Heather", "Peat"} <= _titles(page_b), what="A's and C's songs on B")
    page_b.evaluate("() => window.__sonantica.app.navigate('/federation')")
    page_b.wait_for_selector(".member[data-node] .chip.state:text('Online')")
    page_b.wait_for_timeout(450)
    page_b.screenshot(path=shots / "federation-joined.png")

    # A's owner revokes C: asked first (Cancel keeps it), then C is marked revoked and its music leaves A
    ctx_a = open_context(browser, a)
    page_a = ctx_a.new_page()
    page_a.goto("/federation")
    card_c = page_a.locator(".member", has=page_a.locator(".member-name", has_text="Node C"))
    card_c.locator("button", has_text="Revoke").click()
    dialog = page_a.locator("dialog[open]")
    assert "Revoke Node C?" in dialog.inner_text()
    dialog.locator("button", has_text="Cancel").click()
    assert card_c.count() == 1
    card_c.locator("button", has_text="Revoke").click()
    page_a.locator("dialog[open] button", has_text="Revoke").click()
    page_a.wait_for_selector(".toast:text('Node C was revoked')")
    page_a.wait_for_function("() => ![...document.querySelectorAll('.member-name')].some((e) => e.textContent === 'Node C')")
    revoked = page_a.inner_text(".shelf-head .muted")
    assert revoked.startswith("Revoked:") and "Node C" in revoked, revoked
    page_a.wait_for_timeout(450)
    page_a.screenshot(path=shots / "federation-revoked.png")
    wait_for(lambda: not {"Heather", "Peat"} & _titles(page_a), what="C's songs gone from A")
    assert {"Kettle", "Screen Door", "Lantern", "Ferry"} <= _titles(page_a)

    # B's owner leaves: B is on its own again, with only its own music; A no longer lists B
    page_b.evaluate("() => window.__sonantica.app.navigate('/federation')")
    page_b.click("button:has-text('Leave federation')")
    page_b.locator("dialog[open] button", has_text="Leave").click()
    page_b.wait_for_selector(".toast:text('This node left the federation')")
    page_b.wait_for_selector("h2:text('Not in a federation yet')")
    assert _titles(page_b) == {"Lantern", "Ferry"}
    with a.client() as client:
        wait_for(lambda: "Node B" not in {m["name"] for m in client.get("/api/v1/federation/members").json()["items"]},
                 what="B gone from A's members")
    ctx_a.close()
    ctx_b.close()
