"""The artist page shows the fetched picture and biography (as text, with its source), the album page the
fetched cover, and the status page the metadata panel: a real node with external metadata on, pointed
at loopback stand-ins of the providers (tests/metadata/standin.py)."""

from __future__ import annotations

import pytest

from sonantica.node import cli
from sonantica.node.metadata import http
from tests.metadata.conftest import QUICK
from tests.metadata.standin import Running
from tests.metadata.world import build_library, wire
from tests.support.node import init_node

from .conftest import Node, free_port, open_context


@pytest.fixture
def meta_node(tmp_path):
    """The library is scanned and looked up here first (short pauses); the node then shows what was
    stored and asks nothing again (its stand-in requests are counted)."""
    running = Running()
    standin = wire(running.start())
    build_library(tmp_path / "music")
    data = init_node(tmp_path / "data", tmp_path / "music", metadata=True, **standin.settings())
    assert cli.main(["--data", str(data.root), "scan"]) == 0
    saved, http.SETTINGS = http.SETTINGS, QUICK
    try:
        assert cli.main(["--data", str(data.root), "metadata", "refresh"]) == 0
    finally:
        http.SETTINGS = saved
    asked = standin.count()
    node = Node(tmp_path / "data", free_port(), tmp_path / "serve.log")
    node.start()
    try:
        node.wait_scanned(3)
        yield node
        assert standin.count() == asked  # everything came from the node's own database
    finally:
        node.stop()
        running.stop()


def test_artist_page_shows_picture_and_biography(browser, meta_node, shots):
    ctx = open_context(browser, meta_node)
    page = ctx.new_page()
    page.goto("/artists")
    page.locator(".card", has_text="Björk").first.click()
    page.wait_for_selector(".hero h1:text('Björk')")
    page.wait_for_selector(".hero .cover.loaded img")
    src = page.get_attribute(".hero .cover img", "src")
    assert "/api/v1/covers/mx-" in src  # the fetched picture, served by the node
    bio = page.locator(".artist-about .bio")
    assert bio.inner_text().startswith("Björk Guðmundsdóttir is an Icelandic singer, songwriter & composer.")
    assert "<script>alert(1)</script>" in bio.inner_text()  # shown as text
    assert page.locator(".artist-about script").count() == 0
    assert page.get_attribute(".artist-about a[href*='wikipedia']", "href") == "https://en.wikipedia.org/wiki/Bj%C3%B6rk"
    assert "Wikimedia Commons" in page.locator(".artist-about").inner_text()
    page.screenshot(path=shots / "artist-metadata.png")
    page.locator(".card", has_text="Homogenic").first.click()
    page.wait_for_selector(".hero h1:text('Homogenic')")
    page.wait_for_selector(".hero .cover.loaded img")
    assert "/api/v1/covers/mx-" in page.get_attribute(".hero .cover img", "src")
    page.evaluate("() => window.__sonantica.app.navigate('/status')")
    page.wait_for_selector("[aria-label='External metadata']")
    assert "Albums: 2 of 2 looked at, 2 found" in page.locator("[aria-label='External metadata']").inner_text()
    ctx.close()
