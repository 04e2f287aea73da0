"""The pure Range / conditional core, hammered."""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sonantica.node.streaming.ranges import (
    MAX_RANGES,
    ByteSpan,
    FileFacts,
    Unsatisfiable,
    decide,
    format_http_date,
    make_etag,
    parse_etags,
    parse_http_date,
    parse_range,
)

LM = 784111777  # Sun, 06 Nov 1994 08:49:37 GMT
ETAG = make_etag(size=1000, mtime_ns=LM * 10**9, inode=42)
FACTS = FileFacts(size=1000, etag=ETAG, last_modified=LM)


def hdr(decision, name):
    return dict(decision.headers).get(name)


# --- dates ------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994"],
)
def test_the_three_http_date_forms(text):
    assert parse_http_date(text) == LM


@pytest.mark.parametrize(
    "text", ["", "yesterday", "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 31 Feb 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT"]
)
def test_bad_dates_are_none(text):
    assert parse_http_date(text) is None


@given(st.integers(min_value=0, max_value=2**33))
def test_date_round_trip(seconds):
    assert parse_http_date(format_http_date(seconds)) == seconds


# --- etags ------------------------------------------------------------------


def test_etag_depends_on_each_fact_and_content_id_ignores_mtime():
    base = dict(size=1, mtime_ns=2, inode=3)
    assert make_etag(**base) != make_etag(**{**base, "size": 9})
    assert make_etag(**base) != make_etag(**{**base, "mtime_ns": 9})
    assert make_etag(**base) != make_etag(**{**base, "inode": 9})
    assert make_etag(size=1, mtime_ns=2, content_id="x") == make_etag(size=1, mtime_ns=7, content_id="x")
    assert make_etag(**base).startswith('"') and parse_etags(make_etag(**base)) == [(False, make_etag(**base))]


def test_parse_etags():
    assert parse_etags('W/"a", "b" ,') == [(True, '"a"'), (False, '"b"')]
    assert parse_etags("*") == [(False, "*")]
    assert parse_etags("abc") is None
    assert parse_etags("") is None


def test_facts_reject_bad_values():
    with pytest.raises(ValueError):
        FileFacts(size=-1, etag='"a"', last_modified=0)
    with pytest.raises(ValueError):
        FileFacts(size=1, etag="a", last_modified=0)


def test_facts_from_stat(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    facts = FileFacts.from_stat(os.stat(p))
    assert facts.size == 3 and facts.last_modified == os.stat(p).st_mtime_ns // 10**9


# --- parse_range --------------------------------------------------------------


@pytest.mark.parametrize(
    "value,expected",
    [
        ("bytes=0-0", [ByteSpan(0, 1)]),
        ("bytes=0-", [ByteSpan(0, 1000)]),
        ("bytes=10-19", [ByteSpan(10, 20)]),
        ("bytes=990-5000", [ByteSpan(990, 1000)]),
        ("bytes=-1", [ByteSpan(999, 1000)]),
        ("bytes=-5000", [ByteSpan(0, 1000)]),
        ("BYTES = 1-2", [ByteSpan(1, 3)]),
        ("bytes=1-2, 5-6", [ByteSpan(1, 3), ByteSpan(5, 7)]),
        ("bytes=1-2,,5-6", [ByteSpan(1, 3), ByteSpan(5, 7)]),
        ("bytes=1000-", Unsatisfiable()),
        ("bytes=-0", Unsatisfiable()),
        ("bytes=5000-6000, -0", Unsatisfiable()),
        ("bytes=5000-6000, 1-1", [ByteSpan(1, 2)]),
    ],
)
def test_parse_range_table(value, expected):
    assert parse_range(value, 1000) == expected


@pytest.mark.parametrize(
    "value",
    ["", "bytes", "bytes=", "bytes=-", "bytes=a-b", "bytes=5-1", "items=0-1", "bytes=0-1;x", "bytes=1 -2",
     "bytes=--1", "bytes=0x1-2", "bytes=" + ",".join(["0-0"] * (MAX_RANGES + 1))],
)
def test_malformed_ranges_are_ignored(value):
    assert parse_range(value, 1000) is None


def test_empty_file_every_range_unsatisfiable():
    assert parse_range("bytes=0-", 0) == Unsatisfiable()
    assert parse_range("bytes=-10", 0) == Unsatisfiable()


@given(size=st.integers(0, 10**12), a=st.integers(0, 10**12), b=st.integers(0, 10**12))
def test_int_range_is_clipped_and_inside(size, a, b):
    first, last = min(a, b), max(a, b)
    result = parse_range(f"bytes={first}-{last}", size)
    if first >= size:
        assert result == Unsatisfiable()
    else:
        assert result == [ByteSpan(first, min(last, size - 1) + 1)]


@given(size=st.integers(0, 10**12), n=st.integers(0, 10**12))
def test_suffix_range(size, n):
    result = parse_range(f"bytes=-{n}", size)
    if n == 0 or size == 0:
        assert result == Unsatisfiable()
    else:
        assert result == [ByteSpan(size - min(n, size), size)]


@given(st.text(max_size=40), st.integers(0, 10**6))
def test_parse_range_never_crashes_and_spans_are_inside(value, size):
    result = parse_range(value, size)
    if isinstance(result, list):
        assert all(0 <= s.start < s.stop <= size for s in result)


# --- decide -----------------------------------------------------------------


def test_plain_get_is_200_full():
    d = decide("GET", {}, FACTS)
    assert d.status == 200 and d.span == ByteSpan(0, 1000)
    assert hdr(d, "Content-Length") == "1000" and hdr(d, "Accept-Ranges") == "bytes"
    assert hdr(d, "ETag") == ETAG and hdr(d, "Last-Modified") == format_http_date(LM)


def test_range_206():
    d = decide("GET", {"Range": "bytes=10-19"}, FACTS)
    assert d.status == 206 and d.span == ByteSpan(10, 20)
    assert hdr(d, "Content-Range") == "bytes 10-19/1000" and hdr(d, "Content-Length") == "10"


def test_unsatisfiable_416():
    d = decide("GET", {"range": "bytes=1000-"}, FACTS)
    assert d.status == 416 and d.span is None
    assert hdr(d, "Content-Range") == "bytes */1000"


def test_malformed_range_is_200():
    assert decide("GET", {"Range": "bytes=9-1"}, FACTS).status == 200


def test_head_ignores_range_and_has_no_body():
    d = decide("HEAD", {"Range": "bytes=0-1"}, FACTS)
    assert d.status == 200 and d.span is None and hdr(d, "Content-Length") == "1000"


def test_multiple_ranges_coalesce_or_fall_back_to_200():
    d = decide("GET", {"Range": "bytes=50-99, 0-49, 60-120"}, FACTS)
    assert d.status == 206 and d.span == ByteSpan(0, 121)
    d = decide("GET", {"Range": "bytes=0-1, 5-6"}, FACTS)
    assert d.status == 200 and d.span == ByteSpan(0, 1000)


def test_if_none_match_304_and_miss():
    assert decide("GET", {"If-None-Match": ETAG}, FACTS).status == 304
    assert decide("GET", {"If-None-Match": "W/" + ETAG}, FACTS).status == 304  # weak comparison
    assert decide("GET", {"If-None-Match": '"x", ' + ETAG}, FACTS).status == 304
    assert decide("HEAD", {"If-None-Match": "*"}, FACTS).status == 304
    assert decide("GET", {"If-None-Match": '"nope"'}, FACTS).status == 200
    assert decide("POST", {"If-None-Match": ETAG}, FACTS).status == 412
    d = decide("GET", {"If-None-Match": ETAG}, FACTS)
    assert d.span is None and hdr(d, "ETag") == ETAG and hdr(d, "Content-Length") is None


def test_if_modified_since():
    assert decide("GET", {"If-Modified-Since": format_http_date(LM)}, FACTS).status == 304
    assert decide("GET", {"If-Modified-Since": format_http_date(LM + 5)}, FACTS).status == 304
    assert decide("GET", {"If-Modified-Since": format_http_date(LM - 1)}, FACTS).status == 200
    assert decide("GET", {"If-Modified-Since": "garbage"}, FACTS).status == 200


def test_if_none_match_takes_precedence_over_if_modified_since():
    h = {"If-None-Match": '"other"', "If-Modified-Since": format_http_date(LM)}
    assert decide("GET", h, FACTS).status == 200


def test_if_match_and_if_unmodified_since():
    assert decide("GET", {"If-Match": '"other"'}, FACTS).status == 412
    assert decide("GET", {"If-Match": "W/" + ETAG}, FACTS).status == 412  # strong comparison
    assert decide("GET", {"If-Match": ETAG}, FACTS).status == 200
    assert decide("GET", {"If-Unmodified-Since": format_http_date(LM - 1)}, FACTS).status == 412
    assert decide("GET", {"If-Unmodified-Since": format_http_date(LM)}, FACTS).status == 200


@pytest.mark.parametrize(
    "if_range,honoured",
    [
        (ETAG, True),
        ("W/" + ETAG, False),
        ('"stale"', False),
        (format_http_date(LM), True),
        (format_http_date(LM - 1), False),
        (format_http_date(LM + 1), False),
        ("garbage", False),
    ],
)
def test_if_range(if_range, honoured):
    d = decide("GET", {"Range": "bytes=0-9", "If-Range": if_range}, FACTS)
    assert (d.status, d.span) == ((206, ByteSpan(0, 10)) if honoured else (200, ByteSpan(0, 1000)))


def test_if_range_without_range_is_ignored():
    assert decide("GET", {"If-Range": '"stale"'}, FACTS).status == 200


def test_headers_as_pairs_and_any_case():
    d = decide("get", [("rAnGe", "bytes=-10")], FACTS)
    assert d.status == 206 and d.span == ByteSpan(990, 1000)


@given(
    size=st.integers(0, 5000),
    header=st.one_of(
        st.builds(lambda a, b: f"bytes={a}-{b}", st.integers(0, 6000), st.integers(0, 6000)),
        st.builds(lambda a: f"bytes={a}-", st.integers(0, 6000)),
        st.builds(lambda n: f"bytes=-{n}", st.integers(0, 6000)),
        st.text(max_size=20),
    ),
    method=st.sampled_from(["GET", "HEAD"]),
)
def test_decision_invariants(size, header, method):
    facts = FileFacts(size=size, etag='"e"', last_modified=LM)
    d = decide(method, {"Range": header}, facts)
    h = dict(d.headers)
    assert d.status in (200, 206, 416)
    if d.status == 416:
        assert d.span is None and h["Content-Range"] == f"bytes */{size}"
        return
    if method == "HEAD":
        assert d.span is None and d.status == 200 and h["Content-Length"] == str(size)
        return
    assert 0 <= d.span.start <= d.span.stop <= size
    assert h["Content-Length"] == str(d.span.length)
    if d.status == 206:
        assert d.span.length > 0
        assert h["Content-Range"] == f"bytes {d.span.start}-{d.span.stop - 1}/{size}"
    else:
        assert d.span == ByteSpan(0, size) and "Content-Range" not in h
