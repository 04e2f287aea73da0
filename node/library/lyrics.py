"""Lyrics: embedded (unsynced) or from an ``.lrc`` file beside the track (synced).

LRC lines carry one or more ``[mm:ss.xx]`` stamps; ``[offset:+/-ms]`` shifts
them all. A sidecar is preferred because it usually carries timing.
"""

from __future__ import annotations

import os
import posixpath
import re

import trio

from .paths import OutsideLibrary, confine

_STAMP = re.compile(r"\[(\d{1,3}):(\d{1,2}(?:[.:]\d{1,3})?)\]")
_TAG = re.compile(r"^\[(ar|ti|al|by|offset|length|re|ve):(.*)\]\s*$", re.IGNORECASE)
MAX_LRC = 512 * 1024


def parse_lrc(text: str) -> dict:
    """{"synced": bool, "lines": [{"start_ms": int|None, "text": str}], "tags": {...}}"""
    tags: dict[str, str] = {}
    timed: list[tuple[int, str]] = []
    plain: list[str] = []
    for raw in text.splitlines():
        line = raw.strip("\ufeff").rstrip()
        m = _TAG.match(line)
        if m:
            tags[m.group(1).lower()] = m.group(2).strip()
            continue
        stamps = []
        pos = 0
        while (s := _STAMP.match(line, pos)) is not None:
            seconds = float(s.group(2).replace(":", "."))
            stamps.append(int(int(s.group(1)) * 60_000 + seconds * 1000))
            pos = s.end()
        words = line[pos:].strip()
        if stamps:
            timed.extend((ms, words) for ms in stamps)
        elif line:
            plain.append(line)
    offset = 0
    try:
        offset = int(tags.get("offset", "0"))
    except ValueError:
        pass
    if timed:
        timed.sort(key=lambda x: x[0])
        return {"synced": True, "tags": tags,
                "lines": [{"start_ms": max(0, ms - offset), "text": words} for ms, words in timed]}
    return {"synced": False, "tags": tags, "lines": [{"start_ms": None, "text": w} for w in plain]}


def _read_sidecar(root: str, relpath: str) -> str | None:
    stem = posixpath.splitext(relpath)[0]
    for ext in (".lrc", ".LRC"):
        try:
            path = confine(root, stem + ext)
        except OutsideLibrary:
            return None
        try:
            if os.path.getsize(path) > MAX_LRC:
                return None
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            continue
    return None


async def lyrics_for(root: str, relpath: str, embedded: str | None) -> dict:
    sidecar = await trio.to_thread.run_sync(_read_sidecar, root, relpath)
    if sidecar:
        result = parse_lrc(sidecar)
        result["source"] = "lrc"
        return result
    if embedded:
        result = parse_lrc(embedded)  # some taggers embed LRC text
        result["source"] = "embedded"
        return result
    return {"synced": False, "lines": [], "tags": {}, "source": None}
