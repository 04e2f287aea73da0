"""Reading podcast feeds (pure) and the fetch rules for untrusted addresses."""

from __future__ import annotations

import pytest

from sonantica.node.podcasts import feed
from sonantica.node.podcasts.fetch import FetchError, address_class, check_url, redirect_allowed
from tests.support.feeds import BILLION_LAUGHS, atom, rss

BASE = "https://pod.example"


def test_rss_with_itunes_tags():
    f = feed.parse(rss(BASE).encode())
    assert (f.title, f.author, f.image_url) == ("Night Signals", "Ana Noche", f"{BASE}/cover.jpg")
    assert [e.guid for e in f.episodes] == ["ep-3", "ep-2", "ep-1", "notes", "local"]
    ep = f.episodes[0]
    assert (ep.url, ep.mime, ep.duration, ep.playable) == (f"{BASE}/audio/ep3.mp3", "audio/mpeg", 2.0, True)
    assert ep.published_at == 1796198400.0  # Wed, 02 Dec 2026 08:00:00 +0000
    assert ep.description == "An episode bold & more"
    assert f.episodes[3].skip_reason == "the enclosure is application/pdf, not audio"
    assert f.episodes[4].skip_reason == "the enclosure is not an http(s) URL"


def test_atom_with_enclosure_links():
    f = feed.parse(atom(BASE).encode())
    assert (f.title, f.author, f.description) == ("Atom Hour", "Bo Atom", "Talk in Atom")
    assert [(e.guid, e.mime, e.url) for e in f.episodes] == [
        ("urn:atom:2", "audio/ogg", f"{BASE}/audio/a2.ogg"), ("urn:atom:1", "audio/ogg", f"{BASE}/audio/a1.ogg")]


@pytest.mark.parametrize("data, reason", [
    (BILLION_LAUGHS, "entities"),
    (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><rss><channel>'
     b"<title>&x;</title></channel></rss>", "entities"),
    (b"<html><body>no</body></html>", "not an RSS or Atom feed"),
    (b"<rss><channel><title>cut", "not a valid XML feed"),
    (b"", "not a valid XML feed"),
    (b"<rss version='2.0'></rss>", "without a <channel>"),
    (b"x" * (feed.MAX_FEED + 1), "larger than"),
])
def test_hostile_and_broken_feeds(data, reason):
    with pytest.raises(feed.FeedError, match=reason):
        feed.parse(data)


def test_bounds_and_odd_values():
    items = "".join(f"<item><guid>{i}</guid><title>{'t' * 900}</title><itunes:duration>{d}</itunes:duration>"
                    f"<enclosure url='{BASE}/{i}.mp3' type='Audio/MPEG; charset=x'/></item>"
                    for i, d in enumerate(["1:02:03", "75", "nonsense", "-4"] * 300))
    f = feed.parse(f"<rss xmlns:itunes='{feed.ITUNES[1:-1]}'><channel><title>t</title>{items}</channel></rss>".encode())
    assert len(f.episodes) == feed.MAX_EPISODES
    assert [e.duration for e in f.episodes[:4]] == [3723.0, 75.0, None, None]
    assert len(f.episodes[0].title) == feed.MAX_TITLE and f.episodes[0].mime == "audio/mpeg"
    # duplicated guids are one episode; an item without guid is known by its enclosure
    dup = "<item><guid>a</guid><enclosure url='http://h/1.mp3'/></item>" * 2 + "<item><enclosure url='http://h/2.mp3'/></item>"
    assert [e.guid for e in feed.parse(f"<rss><channel>{dup}</channel></rss>".encode()).episodes] == ["a", "http://h/2.mp3"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://h/x", "gopher://h", "data:text/xml,<rss/>",
                                 "javascript:alert(1)", "/relative", "http://", "x" * 3000])
def test_only_absolute_http_urls_are_fetched(url):
    with pytest.raises(FetchError):
        check_url(url)


def test_address_classes_and_redirect_rule():
    assert [address_class(a) for a in ("8.8.8.8", "10.1.2.3", "192.168.0.5", "169.254.169.254", "127.0.0.1", "::1",
                                       "fd00::1", "100.64.0.1", "::ffff:127.0.0.1", "2606:4700::1")] == [
        "public", "private", "private", "private", "loopback", "loopback", "private", "private", "loopback", "public"]
    assert redirect_allowed("public", "public") and redirect_allowed("loopback", "public")
    assert redirect_allowed("private", "private") and redirect_allowed("loopback", "loopback")
    assert not redirect_allowed("public", "private") and not redirect_allowed("public", "loopback")
    assert not redirect_allowed("private", "loopback")


async def test_a_public_feed_cannot_name_an_address_inside_the_lan():
    """Refused before any connection: nothing listens on 127.0.0.1:9 or 10.255.255.1, and the error is the rule's."""
    import httpx

    from sonantica.node.podcasts.fetch import get

    async with httpx.AsyncClient(trust_env=False, timeout=2) as client:
        for url in ("http://127.0.0.1:9/ep.mp3", "http://10.255.255.1/ep.mp3", "http://[::1]:9/ep.mp3"):
            with pytest.raises(FetchError, match="a feed on a public address names a"):
                async with get(client, url, same_host=False, within="https://1.1.1.1/feed.xml"):
                    pass
        # a feed on the LAN may name the LAN (the owner put it there); here the connection itself fails
        with pytest.raises(FetchError) as exc:
            async with get(client, "http://127.0.0.1:9/ep.mp3", same_host=False, within="http://127.0.0.1:8/f.xml"):
                pass
        assert "names a" not in str(exc.value) and exc.value.transient
