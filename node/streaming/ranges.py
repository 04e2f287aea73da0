"""Pure HTTP range and conditional-request logic for serving files (RFC 9110).

Theory of operation
-------------------
``decide(method, headers, facts)`` takes the request method, the request
headers and the facts about one stored representation (size, ETag,
Last-Modified) and returns a frozen :class:`Decision`: the status, the
response headers that depend on the decision, and the byte span to send
(``None`` when no body is sent).  Nothing here does I/O or reads the clock.

Evaluation follows RFC 9110 §13.2.2, in order:

1. ``If-Match`` (strong comparison) fails → 412.
2. else ``If-Unmodified-Since`` (only when If-Match is absent) fails → 412.
3. ``If-None-Match`` (weak comparison) matches → 304 for GET/HEAD, 412 otherwise.
4. else ``If-Modified-Since`` (GET/HEAD, only when If-None-Match is absent)
   and not modified since → 304.
5. ``Range`` is honoured for GET only (RFC 9110 §14.2: GET is the only method
   with defined range handling, so HEAD answers 200 with the full length).
   ``If-Range`` that does not match (strong ETag comparison, or a date equal
   to Last-Modified) turns the request into a plain 200.

Range policy
------------
* A malformed ``Range`` header (bad syntax, unknown unit, ``last < first``,
  more than :data:`MAX_RANGES` ranges) is ignored → 200, as RFC 9110 allows.
* A syntactically valid header whose ranges are all unsatisfiable → 416 with
  ``Content-Range: bytes */size``.
* Several ranges: we never send ``multipart/byteranges``.  The satisfiable
  ranges are sorted; if they overlap or touch so that they form one contiguous
  span, that span is served as a single 206 (RFC 9110 §14.2 allows
  coalescing); otherwise the Range header is ignored and the whole
  representation is sent with 200.  Audio players only ever ask for one range.
"""

from __future__ import annotations

import calendar
import datetime
import hashlib
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Union

__all__ = [
    "MAX_RANGES",
    "ByteSpan",
    "Decision",
    "FileFacts",
    "Unsatisfiable",
    "decide",
    "format_http_date",
    "make_etag",
    "parse_etags",
    "parse_http_date",
    "parse_range",
]

MAX_RANGES = 64

Headers = Union[Mapping[str, str], Iterable[tuple[str, str]]]


@dataclass(frozen=True)
class ByteSpan:
    """Half-open byte span ``[start, stop)`` inside a representation."""

    start: int
    stop: int

    def __post_init__(self) -> None:
        if not 0 <= self.start <= self.stop:
            raise ValueError(f"invalid byte span {self.start}-{self.stop}")

    @property
    def length(self) -> int:
        return self.stop - self.start

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.stop - 1}/{size}"


@dataclass(frozen=True)
class Unsatisfiable:
    """A valid Range header none of whose ranges overlaps the representation."""


@dataclass(frozen=True)
class FileFacts:
    """What the decision needs to know about a stored representation."""

    size: int
    etag: str  # a full entity-tag, quoted: '"abc"' (strong) or 'W/"abc"'
    last_modified: int  # seconds since the epoch (HTTP dates have 1 s resolution)

    def __post_init__(self) -> None:
        if self.size < 0:
            raise ValueError(f"negative size {self.size}")
        if _parse_one_etag(self.etag) is None:
            raise ValueError(f"not an entity-tag: {self.etag!r}")

    @classmethod
    def from_stat(cls, st, *, content_id: str | None = None) -> FileFacts:
        """Facts from an ``os.stat_result``; ``content_id`` overrides the inode."""
        etag = make_etag(
            size=st.st_size, mtime_ns=st.st_mtime_ns, inode=st.st_ino, content_id=content_id
        )
        return cls(size=st.st_size, etag=etag, last_modified=st.st_mtime_ns // 1_000_000_000)

    def validator_headers(self) -> list[tuple[str, str]]:
        return [("ETag", self.etag), ("Last-Modified", format_http_date(self.last_modified))]


@dataclass(frozen=True)
class Decision:
    """What to answer: status, decision-dependent headers, and the span to send."""

    status: int
    headers: tuple[tuple[str, str], ...]
    span: ByteSpan | None  # None: send no body (304, 412, 416, HEAD)


# --- validators -------------------------------------------------------------


def make_etag(
    *, size: int, mtime_ns: int, inode: int | None = None, content_id: str | None = None
) -> str:
    """A strong ETag.

    With a ``content_id`` (a hash of the content, or a cache key) the tag
    depends on the content identity and size only, so touching a file does not
    invalidate clients' caches; otherwise it changes with size, mtime or inode.
    """
    if content_id is not None:
        material = f"c:{content_id}:{size}"
    else:
        material = f"f:{size}:{mtime_ns}:{inode}"
    return '"' + hashlib.blake2b(material.encode(), digest_size=12).hexdigest() + '"'


_ETAG_RE = re.compile(r'\s*(W/)?("[\x21\x23-\x7e\x80-\xff]*")\s*')


def _parse_one_etag(text: str) -> tuple[bool, str] | None:
    m = _ETAG_RE.fullmatch(text)
    if m is None:
        return None
    return (m.group(1) is not None, m.group(2))


def parse_etags(value: str) -> list[tuple[bool, str]] | None:
    """``'W/"a", "b"'`` → ``[(True, '"a"'), (False, '"b"')]``; ``None`` if malformed.

    ``*`` is returned as ``[(False, "*")]``.
    """
    if value.strip() == "*":
        return [(False, "*")]
    tags = []
    for part in _split_list(value):
        tag = _parse_one_etag(part)
        if tag is None:
            return None
        tags.append(tag)
    return tags or None


def _split_list(value: str) -> list[str]:
    # entity-tags cannot contain commas or quotes, so splitting on commas is safe
    return [p for p in (s.strip() for s in value.split(",")) if p]


def _weak_match(tags: list[tuple[bool, str]], etag: str) -> bool:
    _, ours = _parse_one_etag(etag)  # type: ignore[misc]
    return any(t == "*" or t == ours for _, t in tags)


def _strong_match(tags: list[tuple[bool, str]], etag: str) -> bool:
    weak, ours = _parse_one_etag(etag)  # type: ignore[misc]
    if weak:
        return any(t == "*" for _, t in tags)
    return any(t == "*" or (not w and t == ours) for w, t in tags)


# --- HTTP dates -------------------------------------------------------------

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_NUM = {m: i + 1 for i, m in enumerate(_MONTHS)}
_TIME = r"(\d\d):(\d\d):(\d\d)"
_IMF_RE = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d\d) ([A-Z][a-z]{2}) (\d{4}) " + _TIME + " GMT")
_RFC850_RE = re.compile(
    r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), "
    r"(\d\d)-([A-Z][a-z]{2})-(\d\d) " + _TIME + " GMT"
)
_ASCTIME_RE = re.compile(r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) ([A-Z][a-z]{2}) ([ \d]\d) " + _TIME + r" (\d{4})")


def format_http_date(seconds: int) -> str:
    """IMF-fixdate, e.g. ``Sun, 06 Nov 1994 08:49:37 GMT``."""
    y, mo, d, h, mi, s, wd, *_ = time.gmtime(seconds)
    return f"{_DAYS[wd]}, {d:02d} {_MONTHS[mo - 1]} {y:04d} {h:02d}:{mi:02d}:{s:02d} GMT"


def parse_http_date(value: str) -> int | None:
    """Seconds since the epoch for any of the three HTTP-date forms; else ``None``."""
    value = value.strip()
    if m := _IMF_RE.fullmatch(value):
        day, mon, year, h, mi, s = m.groups()
    elif m := _RFC850_RE.fullmatch(value):
        day, mon, yy, h, mi, s = m.groups()
        year = str(1900 + int(yy) if int(yy) >= 70 else 2000 + int(yy))  # RFC 9110 §5.6.7, simplified
    elif m := _ASCTIME_RE.fullmatch(value):
        mon, day, h, mi, s, year = m.groups()
    else:
        return None
    month = _MONTH_NUM.get(mon)
    if month is None:
        return None
    fields = (int(year), month, int(day), int(h), int(mi), int(s))
    if not (1 <= fields[2] <= 31 and fields[3] < 24 and fields[4] < 60 and fields[5] <= 60):
        return None
    try:
        datetime.date(fields[0], fields[1], fields[2])
    except ValueError:
        return None
    return calendar.timegm((*fields, 0, 0, 0))


# --- Range ------------------------------------------------------------------

_RANGE_SPEC_RE = re.compile(r"(\d*)-(\d*)")


def parse_range(value: str, size: int) -> list[ByteSpan] | Unsatisfiable | None:
    """Parse a ``Range`` header against a representation of ``size`` bytes.

    Returns the satisfiable spans (clipped to the size) in request order,
    :class:`Unsatisfiable` if the header is valid but none is satisfiable, or
    ``None`` if the header must be ignored (malformed, other unit, too many).
    """
    unit, sep, rest = value.partition("=")
    if not sep or unit.strip().lower() != "bytes":
        return None
    parts = [p.strip() for p in rest.split(",")]
    parts = [p for p in parts if p]  # RFC 9110 list syntax tolerates empty elements
    if not parts or len(parts) > MAX_RANGES:
        return None
    spans: list[ByteSpan] = []
    for part in parts:
        m = _RANGE_SPEC_RE.fullmatch(part)
        if m is None or (not m.group(1) and not m.group(2)):
            return None
        first, last = m.group(1), m.group(2)
        if first:
            a = int(first)
            if last and int(last) < a:
                return None
            if a < size:
                b = min(int(last), size - 1) if last else size - 1
                spans.append(ByteSpan(a, b + 1))
        else:
            n = int(last)
            if n > 0 and size > 0:
                spans.append(ByteSpan(max(0, size - n), size))
    return spans if spans else Unsatisfiable()


def _coalesce(spans: list[ByteSpan]) -> ByteSpan | None:
    ordered = sorted(spans, key=lambda s: s.start)
    start, stop = ordered[0].start, ordered[0].stop
    for s in ordered[1:]:
        if s.start > stop:
            return None
        stop = max(stop, s.stop)
    return ByteSpan(start, stop)


# --- the decision -----------------------------------------------------------


def _normalise(headers: Headers) -> dict[str, str]:
    items = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in items:
        key = name.lower()
        # repeated list-valued fields combine with a comma (RFC 9110 §5.3)
        out[key] = f"{out[key]}, {value}" if key in out and key != "range" else value
    return out


def _if_range_matches(value: str, facts: FileFacts) -> bool:
    value = value.strip()
    if value.startswith(('"', "W/")):
        tag = _parse_one_etag(value)
        return tag is not None and _strong_match([tag], facts.etag) and not tag[0]
    date = parse_http_date(value)
    return date is not None and date == facts.last_modified


def _preconditions(method: str, h: dict[str, str], facts: FileFacts) -> int | None:
    if "if-match" in h:
        tags = parse_etags(h["if-match"])
        if tags is not None and not _strong_match(tags, facts.etag):
            return 412
    elif "if-unmodified-since" in h:
        date = parse_http_date(h["if-unmodified-since"])
        if date is not None and facts.last_modified > date:
            return 412
    if "if-none-match" in h:
        tags = parse_etags(h["if-none-match"])
        if tags is not None and _weak_match(tags, facts.etag):
            return 304 if method in ("GET", "HEAD") else 412
    elif "if-modified-since" in h and method in ("GET", "HEAD"):
        date = parse_http_date(h["if-modified-since"])
        if date is not None and facts.last_modified <= date:
            return 304
    return None


def decide(method: str, headers: Headers, facts: FileFacts) -> Decision:
    """Decide how to answer ``method`` with ``headers`` for the representation ``facts``."""
    method = method.upper()
    h = _normalise(headers)
    validators = tuple(facts.validator_headers())
    early = _preconditions(method, h, facts)
    if early == 304:
        return Decision(304, validators, None)
    if early == 412:
        return Decision(412, (("Content-Length", "0"),), None)

    base = (("Accept-Ranges", "bytes"), *validators)
    full = ByteSpan(0, facts.size)
    span: ByteSpan | None = full
    status = 200
    if method == "GET" and "range" in h and ("if-range" not in h or _if_range_matches(h["if-range"], facts)):
        parsed = parse_range(h["range"], facts.size)
        if isinstance(parsed, Unsatisfiable):
            return Decision(
                416, (*base, ("Content-Range", f"bytes */{facts.size}"), ("Content-Length", "0")), None
            )
        if parsed is not None:
            one = _coalesce(parsed)
            if one is not None:
                span, status = one, 206
    headers_out = base + (("Content-Length", str(span.length)),)
    if status == 206:
        headers_out += (("Content-Range", span.content_range(facts.size)),)
    if method == "HEAD":
        span = None
    return Decision(status, headers_out, span)
