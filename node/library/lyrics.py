"""Lyrics: a TTML or ``.lrc`` file beside the track, else the embedded text.

Three sources, richest first:

* ``track.ttml`` (TTML as karaoke apps write it): lines (``<p>``) with
  word or syllable ``<span>`` timings, singers (``ttm:agent``) and background
  vocals (``ttm:role="x-bg"``); parsed with defusedxml (it is untrusted).
* ``track.lrc``: lines with one or more ``[mm:ss.xx]`` stamps; ``[offset:+/-ms]``
  shifts them all; *enhanced* LRC adds ``<mm:ss.xx>`` word stamps inside a line.
* embedded lyrics (some taggers embed LRC text, which is parsed the same way).

The result is one dict (the native API returns it as is)::

    {"synced", "lines": [{"start_ms", "text"}], "tags", "source", "lang",
     "agents": [{"id", "role", "name"?}],          # only when the source names singers
     "cue_lines": [{"index", "start_ms", "end_ms"?, "text", "agent"?,
                    "words": [{"start_ms", "end_ms"?, "text"}]}]}   # only with word timing

In a cue line the words' texts concatenate to exactly ``text`` (the
Subsonic ``cue.byteStart``/``byteEnd`` offsets are computed from that), and
either every word has ``end_ms`` or none has.
"""

from __future__ import annotations

import os
import posixpath
import re

import trio

from .paths import OutsideLibrary, confine

_STAMP = re.compile(r"\[(\d{1,3}):(\d{1,2}(?:[.:]\d{1,3})?)\]")
_WORD = re.compile(r"<(\d{1,3}):(\d{1,2}(?:[.:]\d{1,3})?)>")
_TAG = re.compile(r"^\[(ar|ti|al|by|offset|length|re|ve|la|lang):(.*)\]\s*$", re.IGNORECASE)
MAX_LRC = 512 * 1024
MAX_TTML = 2 * 1024 * 1024
MAX_LAYERS = 8  # translations and romanisations kept from one TTML file
MAX_LINE = 1000  # characters of one layer line
TTML_NS = "http://www.w3.org/ns/ttml"
TTM_NS = "http://www.w3.org/ns/ttml#metadata"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def _ms(minutes: str, seconds: str) -> int:
    return int(round(int(minutes) * 60_000 + float(seconds.replace(":", ".")) * 1000))


def _cue_line(words: list[dict]) -> tuple[str, list[dict]]:
    """Trim the outer whitespace and drop empty words so that the words concatenate to the line's text."""
    words = [dict(w) for w in words]
    if words:
        words[0]["text"] = words[0]["text"].lstrip()
        words[-1]["text"] = words[-1]["text"].rstrip()
    words = [w for w in words if w["text"]]
    return "".join(w["text"] for w in words), words


def _fill_ends(words: list[dict], line_end: int | None) -> None:
    """All words get an end or none does (the spec's rule): a missing end is the next word's start."""
    if not any("end_ms" in w for w in words) or not words:
        return
    for i, w in enumerate(words):
        if "end_ms" not in w:
            nxt = words[i + 1]["start_ms"] if i + 1 < len(words) else line_end
            if nxt is None:
                for x in words:
                    x.pop("end_ms", None)
                return
            w["end_ms"] = max(w["start_ms"], nxt)


def _enhanced_words(text: str, line_start: int) -> tuple[str, list[dict], int | None] | None:
    """Split an enhanced-LRC line into words; None when it carries no word stamps.

    Text before the first stamp starts at the line's time; a last stamp followed by
    nothing is the line's end, and then every word ends where the next begins.
    """
    marks = list(_WORD.finditer(text))
    if not marks:
        return None
    words: list[dict] = []
    if text[: marks[0].start()].strip():
        words.append({"start_ms": line_start, "text": text[: marks[0].start()]})
    for i, m in enumerate(marks):
        stop = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        words.append({"start_ms": _ms(m.group(1), m.group(2)), "text": text[m.end():stop]})
    end = None
    if not words[-1]["text"].strip() and len(words) > 1:
        end = words.pop()["start_ms"]
        for i, w in enumerate(words):
            w["end_ms"] = words[i + 1]["start_ms"] if i + 1 < len(words) else end
    value, words = _cue_line(words)
    return value, words, end


def parse_lrc(text: str) -> dict:
    """Lines (synced when stamped), the ``[xx:...]`` tags, and word cues for enhanced LRC."""
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
            stamps.append(_ms(s.group(1), s.group(2)))
            pos = s.end()
        words = line[pos:].strip()
        if stamps:
            timed.extend((ms, words) for ms in stamps)
        elif line:
            plain.append(_WORD.sub("", line))
    offset = 0
    try:
        offset = int(tags.get("offset", "0"))
    except ValueError:
        pass
    if not timed:
        return {"synced": False, "tags": tags, "lines": [{"start_ms": None, "text": w} for w in plain]}
    timed.sort(key=lambda x: x[0])
    lines, cue_lines = [], []
    for ms, words in timed:
        enhanced = _enhanced_words(words, ms)
        start = max(0, ms - offset)
        if enhanced is None:
            lines.append({"start_ms": start, "text": words})
            continue
        value, cues, end = enhanced
        lines.append({"start_ms": start, "text": value})
        if cues:
            for w in cues:
                w["start_ms"] = max(0, w["start_ms"] - offset)
                if "end_ms" in w:
                    w["end_ms"] = max(0, w["end_ms"] - offset)
            cue = {"index": len(lines) - 1, "start_ms": start, "text": value, "words": cues}
            if end is not None:
                cue["end_ms"] = max(start, end - offset)
            cue_lines.append(cue)
    result = {"synced": True, "tags": tags, "lines": lines}
    if cue_lines:
        result["cue_lines"] = cue_lines
    return result


_CLOCK = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d+)?)$")
_OFFSET = re.compile(r"^(\d+(?:\.\d+)?)(h|m|s|ms)$")


def ttml_time(value: str | None) -> int | None:
    """A TTML time expression in ms: ``hh:mm:ss.fff``, ``mm:ss.fff``, ``12.5s``, ``1500ms``, bare seconds."""
    if not value:
        return None
    value = value.strip()
    if m := _CLOCK.match(value):
        return int(round((int(m.group(1) or 0) * 3600 + int(m.group(2)) * 60 + float(m.group(3))) * 1000))
    if m := _OFFSET.match(value):
        scale = {"h": 3_600_000, "m": 60_000, "s": 1000, "ms": 1}[m.group(2)]
        return int(round(float(m.group(1)) * scale))
    try:
        return int(round(float(value) * 1000))
    except ValueError:
        return None


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _ttml_agents(root) -> dict[str, dict]:
    """The declared singers: the first person is the main voice, groups are groups, other persons voices."""
    agents: dict[str, dict] = {}
    for el in root.iter(_q(TTM_NS, "agent")):
        ident = el.get(_q(XML_NS, "id"))
        if not ident or ident in agents:
            continue
        kind = el.get("type", "person")
        role = "group" if kind == "group" else ("voice" if any(a["role"] == "main" for a in agents.values())
                                                else "main")
        agent = {"id": ident, "role": role}
        name = el.find(_q(TTM_NS, "name"))
        if name is not None and (name.text or "").strip():
            agent["name"] = name.text.strip()
        agents[ident] = agent
    return agents


LAYER_ROLES = {"x-translation": "translation", "x-roman": "pronunciation"}
ITUNES_NS = "http://music.apple.com/lyric-ttml-internal"


def _role(el) -> str | None:
    return el.get(_q(TTM_NS, "role"))


def _plain_text(p) -> str:
    """A line's text without its translation and romanisation spans."""
    parts = [p.text or ""]
    for child in p:
        if _role(child) not in LAYER_ROLES:
            parts.append("".join(child.itertext()))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _span_words(parent, bg: bool) -> list[dict]:
    """Timed spans of a ``<p>`` (or of a background span); the text after a span belongs to its word."""
    words: list[dict] = []
    for span in parent:
        if span.tag != _q(TTML_NS, "span"):
            continue
        is_bg = _role(span) == "x-bg"
        if is_bg != bg or _role(span) in LAYER_ROLES:
            if words and span.tail:
                words[-1]["text"] += re.sub(r"\s+", " ", span.tail)
            continue
        begin = ttml_time(span.get("begin"))
        text = re.sub(r"\s+", " ", "".join(span.itertext()) + (span.tail or ""))
        if begin is None:
            if words:
                words[-1]["text"] += text
            continue
        word = {"start_ms": begin, "text": text}
        end = ttml_time(span.get("end"))
        if end is not None:
            word["end_ms"] = max(begin, end)
        words.append(word)
    return words


def parse_ttml(data: bytes) -> dict:
    """Lines with word cues, singers and background vocals from a TTML document; ValueError if it is not one."""
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException

    try:
        root = SafeET.fromstring(data)
    except (SafeET.ParseError, DefusedXmlException) as exc:
        raise ValueError(f"not a TTML document: {exc}") from exc
    if root.tag != _q(TTML_NS, "tt"):
        raise ValueError("not a TTML document: the root is not <tt>")
    agents = _ttml_agents(root)
    lines: list[dict] = []
    cue_lines: list[dict] = []
    used_bg = False
    body = root.find(_q(TTML_NS, "body"))
    layers = _Layers(root)
    for p in (body.iter(_q(TTML_NS, "p")) if body is not None else ()):
        start, end = ttml_time(p.get("begin")), ttml_time(p.get("end"))
        layers.add(p, start)
        main_words = _span_words(p, bg=False)
        bg_spans = [s for s in p if s.tag == _q(TTML_NS, "span") and s.get(_q(TTM_NS, "role")) == "x-bg"]
        if main_words:
            text, main_words = _cue_line(main_words)
        else:
            text = _plain_text(p)
        if start is None and main_words:
            start = main_words[0]["start_ms"]
        backing = [_cue_line(_span_words(span, bg=False)) for span in bg_spans]
        full = " ".join([text] + [b for b, _ in backing if b]) if main_words else text
        lines.append({"start_ms": start, "text": full})
        index = len(lines) - 1
        agent = p.get(_q(TTM_NS, "agent"))
        if main_words:
            _fill_ends(main_words, end)
            cue = {"index": index, "start_ms": start, "text": text, "words": main_words}
            if end is not None:
                cue["end_ms"] = end
            if agent in agents:
                cue["agent"] = agent
            cue_lines.append(cue)
        for bg_text, bg_words in backing:
            if not bg_words:
                continue
            used_bg = True
            _fill_ends(bg_words, end)
            cue = {"index": index, "start_ms": bg_words[0]["start_ms"], "text": bg_text, "words": bg_words,
                   "agent": "bg"}
            if end is not None:
                cue["end_ms"] = end
            cue_lines.append(cue)
    synced = bool(lines) and all(line["start_ms"] is not None for line in lines)
    if not synced:
        for line in lines:
            line["start_ms"] = None
        cue_lines = []
    result: dict = {"synced": synced, "tags": {}, "lines": lines,
                    "lang": root.get(_q(XML_NS, "lang")) or None}
    if cue_lines:
        result["cue_lines"] = cue_lines
        _attribute(result, agents, used_bg)
    if found := layers.result(synced):
        result["layers"] = found
    return result


class _Layers:
    """Translations and romanisations of the lines: inline spans (``ttm:role="x-translation"`` or
    ``"x-roman"``, with ``xml:lang``) or Apple's ``iTunesMetadata`` (by the line's ``itunes:key``).
    Each becomes a layer of its own, timed like the lines it renders (kind ``translation`` or
    ``pronunciation``); lines it lacks are left out of it."""

    def __init__(self, root) -> None:
        self._layers: dict[tuple[str, str], list[dict]] = {}
        self._keyed: dict[str, list[tuple[str, str, str]]] = {}
        for tag, kind in (("translation", "translation"), ("transliteration", "pronunciation")):
            for el in root.iter(_q(ITUNES_NS, tag)):
                lang = el.get(_q(XML_NS, "lang")) or "und"
                for text in el.iter(_q(ITUNES_NS, "text")):
                    key, value = text.get("for"), " ".join("".join(text.itertext()).split())
                    if key and value:
                        self._keyed.setdefault(key, []).append((kind, lang, value))

    def add(self, p, start: int | None) -> None:
        for span in p:
            kind = LAYER_ROLES.get(_role(span) or "")
            value = " ".join("".join(span.itertext()).split()) if kind else ""
            if kind and value:
                self._put(kind, span.get(_q(XML_NS, "lang")) or "und", start, value)
        for kind, lang, value in self._keyed.get(p.get(_q(ITUNES_NS, "key")) or "", ()):
            self._put(kind, lang, start, value)

    def _put(self, kind: str, lang: str, start: int | None, value: str) -> None:
        self._layers.setdefault((kind, lang[:35]), []).append({"start_ms": start, "text": value[:MAX_LINE]})

    def result(self, synced: bool) -> list[dict]:
        out = []
        for (kind, lang), lines in list(self._layers.items())[:MAX_LAYERS]:
            timed = synced and all(line["start_ms"] is not None for line in lines)
            out.append({"kind": kind, "lang": lang, "synced": timed,
                        "lines": [{"start_ms": line["start_ms"] if timed else None, "text": line["text"]}
                                  for line in lines]})
        return out


def _attribute(result: dict, agents: dict[str, dict], used_bg: bool) -> None:
    """Agents only when singers are named or background vocals exist; then every cue line names one,
    exactly one agent is main, and a main agent's cue line comes first among those of its line."""
    if not agents and not used_bg:
        for cue in result["cue_lines"]:
            cue.pop("agent", None)
        return
    listed = [a for a in agents.values()]
    if not any(a["role"] == "main" for a in listed):
        listed.insert(0, {"id": "main", "role": "main"})
    main = next(a["id"] for a in listed if a["role"] == "main")
    if used_bg:
        listed.append({"id": "bg", "role": "bg"})
    roles = {a["id"]: a["role"] for a in listed}
    for cue in result["cue_lines"]:
        cue.setdefault("agent", main)
    result["cue_lines"].sort(key=lambda c: (c["index"], roles[c["agent"]] != "main"))
    result["agents"] = listed


def _read_sidecar(root: str, relpath: str, exts: tuple[str, ...], limit: int) -> bytes | None:
    stem = posixpath.splitext(relpath)[0]
    for ext in exts:
        try:
            path = confine(root, stem + ext)
        except OutsideLibrary:
            return None
        try:
            if os.path.getsize(path) > limit:
                continue
            with open(path, "rb") as f:
                return f.read()
        except OSError:
            continue
    return None


def _from_files(root: str, relpath: str) -> dict | None:
    """The richest sidecar that parses (TTML, then LRC); runs in a thread (file reads, XML parsing)."""
    ttml = _read_sidecar(root, relpath, (".ttml", ".TTML"), MAX_TTML)
    if ttml:
        try:
            result = parse_ttml(ttml)
        except ValueError:
            result = None
        if result and result["lines"]:
            result["source"] = "ttml"
            return result
    lrc = _read_sidecar(root, relpath, (".lrc", ".LRC"), MAX_LRC)
    if lrc:
        result = parse_lrc(lrc.decode("utf-8", "replace"))
        result["source"] = "lrc"
        return result
    return None


def has_sidecar(root: str, relpath: str) -> bool:
    """Whether a TTML or LRC file sits beside the track (external metadata then fetches no lyrics)."""
    stem = posixpath.splitext(relpath)[0]
    for ext in (".ttml", ".TTML", ".lrc", ".LRC"):
        try:
            if os.path.isfile(confine(root, stem + ext)):
                return True
        except OutsideLibrary:
            return False
    return False


async def lyrics_for(root: str, relpath: str, embedded: str | None, fetched: str | None = None) -> dict:
    """The track's lyrics: a sidecar file, else embedded, else ``fetched`` (external metadata's LRC or
    plain text, docs/metadata.md): the user's own files always win over what was fetched."""
    found = await trio.to_thread.run_sync(_from_files, root, relpath)
    if found:
        return found
    if embedded:
        result = parse_lrc(embedded)  # some taggers embed LRC text
        result["source"] = "embedded"
        return result
    if fetched:
        result = parse_lrc(fetched)
        result["source"] = "fetched"
        return result
    return {"synced": False, "lines": [], "tags": {}, "source": None}
