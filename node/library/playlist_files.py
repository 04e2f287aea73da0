"""M3U8 and XSPF playlists: parsing for import, writing for export (pure functions).

Entries are matched to tracks by their Sonántica id when the file carries one
(``#SONANTICA-ID:`` in M3U, ``<identifier>sonantica:…</identifier>`` in XSPF: what
our exports write, so a round trip gives the same tracks, members' included), then by
path (absolute, or relative to a library folder or to the playlist's own folder), then
by "artist - title" from ``#EXTINF`` / XSPF metadata, case- and accent-insensitively.

Exports carry each track's path relative to its music folder, never the server's
absolute layout: a playlist is shared with listeners, and may be another user's.
"""

from __future__ import annotations

import posixpath
import urllib.parse
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape

from .tagmap import normalise

MAX_ENTRIES = 20_000
XSPF_NS = "http://xspf.org/ns/0/"
M3U_ID = "#SONANTICA-ID:"
XSPF_ID = "sonantica:"


@dataclass(frozen=True)
class Entry:
    location: str | None
    artist: str | None = None
    title: str | None = None
    duration: float | None = None
    ident: str | None = None


def parse_m3u(text: str) -> tuple[str | None, list[Entry]]:
    name = None
    entries: list[Entry] = []
    info: tuple[float | None, str | None, str | None] | None = None
    ident: str | None = None
    for raw in text.splitlines():
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        if line.startswith("#PLAYLIST:"):
            name = line[10:].strip() or None
        elif line.startswith("#EXTINF:"):
            head, _, label = line[8:].partition(",")
            try:
                duration = float(head.split()[0]) if head.split() else None
            except ValueError:
                duration = None
            artist, sep, title = label.partition(" - ")
            info = (duration, artist.strip() if sep else None, (title if sep else label).strip() or None)
        elif line.startswith(M3U_ID):
            ident = line[len(M3U_ID):].strip() or None
        elif line.startswith("#"):
            continue
        else:
            duration, artist, title = info or (None, None, None)
            entries.append(Entry(_location(line), artist, title, duration, ident))
            info = ident = None
        if len(entries) >= MAX_ENTRIES:
            break
    return name, entries


def _location(text: str) -> str:
    if text.startswith("file://"):
        return urllib.parse.unquote(urllib.parse.urlparse(text).path)
    return text.replace("\\", "/")


def _xspf_location(text: str) -> str:
    """An XSPF location is a URI: ``file://`` (absolute) or relative, both percent-encoded."""
    if "://" in text:
        return _location(text)
    return urllib.parse.unquote(text).replace("\\", "/")


def parse_xspf(text: str) -> tuple[str | None, list[Entry]]:
    if len(text) > 16 * 1024 * 1024 or "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise ValueError("XSPF with a DTD or entities is refused")
    root = ET.fromstring(text)
    ns = {"x": XSPF_NS}
    title = root.findtext("x:title", default=None, namespaces=ns)
    entries = []
    for track in list(root.iterfind(".//x:trackList/x:track", ns))[:MAX_ENTRIES]:
        loc = track.findtext("x:location", default=None, namespaces=ns)
        dur = track.findtext("x:duration", default=None, namespaces=ns)
        idents = [(i.text or "").strip()[len(XSPF_ID):] for i in track.findall("x:identifier", ns)
                  if (i.text or "").strip().startswith(XSPF_ID)]
        entries.append(Entry(
            _xspf_location(loc.strip()) if loc else None,
            track.findtext("x:creator", default=None, namespaces=ns),
            track.findtext("x:title", default=None, namespaces=ns),
            int(dur) / 1000 if dur and dur.isdigit() else None,
            idents[0] if idents else None,
        ))
    return title, entries


class Matcher:
    """Finds track ids for entries, given (id, folder path, relpath, artist, title) of every track."""

    def __init__(self, tracks: list[tuple[str, str, str, str, str]], known_ids: frozenset[str] = frozenset()) -> None:
        self.known_ids = known_ids  # track ids (members' included) that entries may name directly
        self.by_abs: dict[str, str] = {}
        self.by_rel: dict[str, str] = {}
        self.by_name: dict[tuple[str, str], str] = {}
        self.by_title: dict[str, str] = {}
        for tid, folder, rel, artist, title in tracks:
            self.by_abs[posixpath.join(folder, rel)] = tid
            self.by_rel.setdefault(rel, tid)
            self.by_name.setdefault((normalise(artist), normalise(title)), tid)
            self.by_title.setdefault(normalise(title), tid)

    def match(self, entry: Entry, base: str = "") -> str | None:
        if entry.ident and entry.ident in self.known_ids:
            return entry.ident
        if entry.location:
            loc = posixpath.normpath(entry.location)
            for candidate in (loc, posixpath.normpath(posixpath.join(base, loc))):
                if candidate in self.by_abs:
                    return self.by_abs[candidate]
            rel = loc.lstrip("./")
            parts = rel.split("/")
            for i in range(len(parts)):
                if "/".join(parts[i:]) in self.by_rel:
                    return self.by_rel["/".join(parts[i:])]
        if entry.title:
            if entry.artist:
                found = self.by_name.get((normalise(entry.artist), normalise(entry.title)))
                if found:
                    return found
            return self.by_title.get(normalise(entry.title)) if not entry.location else None
        return None


def write_m3u(name: str, tracks: list[dict]) -> str:
    """``tracks``: dicts with id, title, artist, duration and ``location`` (relative to its music folder)."""
    lines = ["#EXTM3U", f"#PLAYLIST:{_one_line(name)}"]
    for t in tracks:
        lines.append(f"#EXTINF:{round(t['duration'] or 0)},{_one_line(t['artist'])} - {_one_line(t['title'])}")
        lines.append(M3U_ID + t["id"])
        lines.append(_one_line(t["location"]))
    return "\n".join(lines) + "\n"


def _one_line(text: str | None) -> str:
    return " ".join((text or "").splitlines())


def write_xspf(name: str, tracks: list[dict]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<playlist version="1" xmlns="{XSPF_NS}">',
           f"  <title>{escape(name)}</title>", "  <trackList>"]
    for t in tracks:
        loc = urllib.parse.quote(t["location"])  # a relative URI
        out += ["    <track>", f"      <location>{escape(loc)}</location>",
                f"      <identifier>{escape(XSPF_ID + t['id'])}</identifier>",
                f"      <title>{escape(t['title'] or '')}</title>", f"      <creator>{escape(t['artist'] or '')}</creator>",
                f"      <album>{escape(t['album'] or '')}</album>",
                f"      <duration>{int((t['duration'] or 0) * 1000)}</duration>", "    </track>"]
    out += ["  </trackList>", "</playlist>"]
    return "\n".join(out) + "\n"
