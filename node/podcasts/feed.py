"""Reading a podcast feed (RSS 2.0 with the iTunes namespace, or Atom): pure, bytes in, a Feed out.

Feeds are untrusted input. The bytes are bounded by the fetcher (:data:`MAX_FEED`) and parsed with
defusedxml, which refuses entity declarations (billion laughs, quadratic blow-up) and external
references; every text kept is bounded and made plain text (markup removed, shown as text by
every client). An enclosure is kept only if it is an http(s) URL of audio: anything else makes the
episode ``skipped`` with the reason, so that a person sees why it cannot be played.
"""

from __future__ import annotations

import email.utils
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urlsplit
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException

MAX_FEED = 8 * 1024 * 1024  # bytes of feed read at most (large real feeds with years of shows are ~5 MB)
MAX_EPISODES = 1000  # newest kept of a longer feed
MAX_TITLE = 500
MAX_TEXT = 4000
MAX_URL = 2000

ITUNES = "{http://www.itunes.com/dtds/podcast-1.0.dtd}"
ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT = "{http://purl.org/rss/1.0/modules/content/}"
MEDIA = "{http://search.yahoo.com/mrss/}"
# what an enclosure may be: audio, or the generic types some hosts send for audio files
AUDIO_TYPES = re.compile(r"^(audio/[\w.+-]+|application/octet-stream|binary/octet-stream|application/ogg)$")


class FeedError(ValueError):
    """The bytes are not a feed this node can read; the message says why, for a person."""


@dataclass(frozen=True)
class Episode:
    guid: str
    title: str
    description: str
    url: str | None
    mime: str | None
    length: int | None
    duration: float | None
    published_at: float | None
    skip_reason: str | None = None

    @property
    def playable(self) -> bool:
        return self.skip_reason is None


@dataclass(frozen=True)
class Feed:
    title: str
    description: str
    author: str
    image_url: str | None
    episodes: list[Episode] = field(default_factory=list)


def parse(data: bytes) -> Feed:
    """The feed in ``data`` (RSS 2.0 or Atom); FeedError if it is neither, too large or hostile."""
    if len(data) > MAX_FEED:
        raise FeedError(f"the feed is larger than {MAX_FEED // (1024 * 1024)} MB")
    try:
        root = safe_xml.fromstring(data, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    except DefusedXmlException as exc:
        raise FeedError(f"the feed declares XML entities or external references, which are refused ({type(exc).__name__})") from None
    except ParseError as exc:
        raise FeedError(f"not a valid XML feed: {exc}") from None
    if root.tag == "rss" or root.tag.endswith("}RDF"):
        return _rss(root)
    if root.tag == ATOM + "feed":
        return _atom(root)
    raise FeedError(f"not an RSS or Atom feed (the document is <{_local(root.tag)}>)")


# -- RSS 2.0 -----------------------------------------------------------------------------------------
def _rss(root: Element) -> Feed:
    channel = root.find("channel")
    if channel is None:
        raise FeedError("an RSS document without a <channel>")
    image = _attr(channel.find(ITUNES + "image"), "href") or _text(channel.find("image/url"))
    items = channel.findall("item")
    if root.tag.endswith("}RDF"):  # RSS 1.0 puts items beside the channel
        items = [el for el in root if _local(el.tag) == "item"]
    episodes = [_rss_item(item) for item in items[:MAX_EPISODES]]
    return Feed(title=_clip(_text(channel.find("title")), MAX_TITLE) or "Untitled podcast",
                description=_plain(_text(channel.find("description")) or _text(channel.find(ITUNES + "summary"))),
                author=_clip(_text(channel.find(ITUNES + "author")), MAX_TITLE),
                image_url=_http_url(image), episodes=_unique(episodes))


def _rss_item(item: Element) -> Episode:
    enclosure = item.find("enclosure")
    if enclosure is None:
        enclosure = item.find(MEDIA + "content")
    url = _attr(enclosure, "url")
    mime = _attr(enclosure, "type")
    title = _clip(_text(item.find("title")), MAX_TITLE)
    guid = _text(item.find("guid")) or url or title
    text = (_text(item.find(ITUNES + "summary")) or _text(item.find("description"))
            or _text(item.find(CONTENT + "encoded")))
    return _episode(guid, title, text, url, mime, _attr(enclosure, "length"),
                    _duration(_text(item.find(ITUNES + "duration"))), _rfc822(_text(item.find("pubDate"))))


# -- Atom --------------------------------------------------------------------------------------------
def _atom(root: Element) -> Feed:
    author = root.find(ATOM + "author/" + ATOM + "name")
    episodes = []
    for entry in root.findall(ATOM + "entry")[:MAX_EPISODES]:
        link = next((el for el in entry.findall(ATOM + "link") if el.get("rel") == "enclosure"), None)
        url, mime = _attr(link, "href"), _attr(link, "type")
        title = _clip(_text(entry.find(ATOM + "title")), MAX_TITLE)
        guid = _text(entry.find(ATOM + "id")) or url or title
        text = _text(entry.find(ATOM + "summary")) or _text(entry.find(ATOM + "content"))
        when = _iso(_text(entry.find(ATOM + "published")) or _text(entry.find(ATOM + "updated")))
        episodes.append(_episode(guid, title, text, url, mime, _attr(link, "length"),
                                 _duration(_text(entry.find(ITUNES + "duration"))), when))
    image = _text(root.find(ATOM + "logo")) or _text(root.find(ATOM + "icon")) or _attr(root.find(ITUNES + "image"), "href")
    return Feed(title=_clip(_text(root.find(ATOM + "title")), MAX_TITLE) or "Untitled podcast",
                description=_plain(_text(root.find(ATOM + "subtitle"))),
                author=_clip(_text(author), MAX_TITLE), image_url=_http_url(image), episodes=_unique(episodes))


# -- one episode -------------------------------------------------------------------------------------
def _episode(guid: str, title: str, text: str, url: str | None, mime: str | None, length: str | None,
             duration: float | None, published: float | None) -> Episode:
    mime = (mime or "").split(";")[0].strip().lower() or None
    reason = None
    if not url:
        reason = "the episode has no audio enclosure"
    elif _http_url(url) is None:
        reason = "the enclosure is not an http(s) URL"
    elif mime and not AUDIO_TYPES.match(mime):
        reason = f"the enclosure is {mime}, not audio"
    guid = guid.strip() if guid and len(guid) <= MAX_URL else hashlib.sha256((guid or "").encode()).hexdigest()
    return Episode(guid=guid or hashlib.sha256((url or title).encode()).hexdigest(), title=title or "Untitled episode",
                   description=_plain(text), url=url[:MAX_URL] if url and len(url) <= MAX_URL else None,
                   mime=mime, length=_int(length), duration=duration, published_at=published, skip_reason=reason)


def _unique(episodes: list[Episode]) -> list[Episode]:
    seen: set[str] = set()
    out = []
    for e in episodes:
        if e.guid not in seen:
            seen.add(e.guid)
            out.append(e)
    return out


# -- small readers -----------------------------------------------------------------------------------
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(el: Element | None) -> str:
    return "".join(el.itertext()).strip() if el is not None else ""


def _attr(el: Element | None, name: str) -> str | None:
    value = el.get(name) if el is not None else None
    return value.strip() if value else None


def _clip(text: str, n: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= n else text[: n - 1] + "…"


def _plain(text: str) -> str:
    """Plain text of a description that may hold HTML (clients show it as text, never as markup)."""
    text = re.sub(r"<(br|p|/p|div|/div|li)\b[^>]*>", "\n", text[: MAX_TEXT * 4], flags=re.I)
    text = html.unescape(re.sub(r"<[^>]*>", "", text))
    text = "\n".join(re.sub(r"[ \t\r\f\v]+", " ", line).strip() for line in text.splitlines())
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _http_url(url: str | None) -> str | None:
    if not url or len(url) > MAX_URL:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def _int(text: str | None) -> int | None:
    try:
        value = int((text or "").strip())
    except ValueError:
        return None
    return value if 0 < value < 1 << 50 else None


def _duration(text: str) -> float | None:
    """``itunes:duration``: seconds, ``MM:SS`` or ``HH:MM:SS``."""
    parts = text.strip().split(":")
    if not text.strip() or len(parts) > 3:
        return None
    try:
        values = [float(p) for p in parts]
    except ValueError:
        return None
    seconds = 0.0
    for v in values:
        seconds = seconds * 60 + v
    return seconds if 0 < seconds < 7 * 86400 else None


def _rfc822(text: str) -> float | None:
    if not text:
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return _iso(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def _iso(text: str) -> float | None:
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()
