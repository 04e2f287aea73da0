"""M3U8 and XSPF playlists: parsing for import, writing for export (pure functions).

Entries are matched to tracks by path (absolute, or relative to a library
folder or to the playlist's own folder), then by "artist - title" from
``#EXTINF`` / XSPF metadata, case- and accent-insensitively.
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


@dataclass(frozen=True)
class Entry:
    location: str | None
    artist: str | None = None
    title: str | None = None
    duration: float | None = None


def parse_m3u(text: str) -> tuple[str | None, list[Entry]]:
    name = None
    entries: list[Entry] = []
    info: tuple[float | None, str | None, str | None] | None = None
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
        elif line.startswith("#"):
            continue
        else:
            duration, artist, title = info or (None, None, None)
            entries.append(Entry(_location(line), artist, title, duration))
            info = None
        if len(entries) >= MAX_ENTRIES:
            break
    return name, entries


def _location(text: str) -> str:
    if text.startswith("file://"):
        return urllib.parse.unquote(urllib.parse.urlparse(text).path)
    return text.replace("\\", "/")


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
        entries.append(Entry(
            _location(loc.strip()) if loc else None,
            track.findtext("x:creator", default=None, namespaces=ns),
            track.findtext("x:title", default=None, namespaces=ns),
            int(dur) / 1000 if dur and dur.isdigit() else None,
        ))
    return title, entries


class Matcher:
    """Finds track ids for entries, given (id, folder path, relpath, artist, title) of every track."""

    def __init__(self, tracks: list[tuple[str, str, str, str, str]]) -> None:
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
    lines = ["#EXTM3U", f"#PLAYLIST:{name}"]
    for t in tracks:
        lines.append(f"#EXTINF:{round(t['duration'])},{t['artist']} - {t['title']}")
        lines.append(t["abs_path"])
    return "\n".join(lines) + "\n"


def write_xspf(name: str, tracks: list[dict]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<playlist version="1" xmlns="{XSPF_NS}">',
           f"  <title>{escape(name)}</title>", "  <trackList>"]
    for t in tracks:
        loc = "file://" + urllib.parse.quote(t["abs_path"])
        out += ["    <track>", f"      <location>{escape(loc)}</location>",
                f"      <title>{escape(t['title'])}</title>", f"      <creator>{escape(t['artist'])}</creator>",
                f"      <album>{escape(t['album'])}</album>", f"      <duration>{int(t['duration'] * 1000)}</duration>",
                "    </track>"]
    out += ["  </trackList>", "</playlist>"]
    return "\n".join(out) + "\n"
