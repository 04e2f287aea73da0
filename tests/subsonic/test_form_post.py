"""formPost: a Subsonic call sent as a form POST is answered exactly as the same call sent as GET.

Apps that POST (to keep credentials out of URLs and logs) still seek by byte
range and revalidate with ETags, so ``Range``, ``If-Range`` and
``If-None-Match`` must mean for them what they mean for GET; HEAD answers
GET's headers without a body.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

RANGES = ("bytes=10-99", "bytes=-100", "bytes=1000-")


def call(sub, verb: str, method: str, params: dict, headers: dict | None = None, view: bool = False):
    items = [*params.items(), ("v", "1.16.1"), ("c", "tests"), *sub.auth().items()]
    path = f"/rest/{method}" + (".view" if view else "")
    if verb == "POST":
        return sub.http.post(path, content=urlencode(items).encode(),
                             headers={**(headers or {}), "Content-Type": "application/x-www-form-urlencoded"})
    return sub.http.request(verb, path, params=items, headers=headers or {})


def same_answer(a, b) -> None:
    assert (a.status_code, a.content) == (b.status_code, b.content)
    for name in ("content-type", "content-length", "content-range", "accept-ranges", "etag", "content-disposition"):
        assert a.headers.get(name) == b.headers.get(name), name


@pytest.mark.parametrize("method, params", [("stream", {"format": "raw"}), ("stream", {}), ("download", {})])
def test_post_honours_range_and_conditionals_like_get(owner, ids, method, params):
    params = {"id": ids["army"], **params}
    full = call(owner, "GET", method, params)
    assert full.status_code == 200 and full.headers["accept-ranges"] == "bytes"
    size = len(full.content)
    for view in (False, True):
        for rng in RANGES:
            got = call(owner, "GET", method, params, {"Range": rng}, view)
            assert got.status_code == 206
            same_answer(call(owner, "POST", method, params, {"Range": rng}, view), got)
        etag = full.headers["etag"]
        posted = call(owner, "POST", method, params, {"Range": "bytes=0-9", "If-Range": etag}, view)
        assert posted.status_code == 206 and posted.content == full.content[:10]
        posted = call(owner, "POST", method, params, {"If-None-Match": etag}, view)
        assert posted.status_code == 304 and posted.content == b""
        posted = call(owner, "POST", method, params, {"Range": f"bytes={size}-"}, view)
        assert posted.status_code == 416 and posted.headers["content-range"] == f"bytes */{size}"


@pytest.mark.parametrize("method", ["stream", "download", "getCoverArt"])
def test_head_answers_get_headers_without_a_body(owner, ids, method):
    params = {"id": owner.json("getSong", {"id": ids["army"]})["song"]["coverArt"] if method == "getCoverArt"
              else ids["army"]}
    got = call(owner, "GET", method, params)
    assert got.status_code == 200
    for headers in ({}, {"Range": "bytes=10-99"}):  # RFC 9110: Range is for GET only, HEAD describes it all
        head = call(owner, "HEAD", method, params, headers)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-length"] == str(len(got.content))
        assert head.headers["content-type"] == got.headers["content-type"]


def test_cover_art_posted_is_the_cover_got(owner, ids):
    cover = owner.json("getSong", {"id": ids["army"]})["song"]["coverArt"]
    for params in ({"id": cover}, {"id": cover, "size": 32}, {"id": ids["lunch"]}):
        for headers in ({}, {"Range": "bytes=0-9"}):
            same_answer(call(owner, "POST", "getCoverArt", params, headers),
                        call(owner, "GET", "getCoverArt", params, headers))


def test_transcoded_stream_posted_is_the_stream_got(owner, ids):
    params = {"id": ids["hyper"], "format": "opus", "maxBitRate": 96, "timeOffset": "1.5"}
    got = call(owner, "GET", "stream", params)
    posted = call(owner, "POST", "stream", params, {"Range": "bytes=0-99"})
    # the same transcode: cached after the GET, then served with Range like a file
    assert got.status_code == 200 and posted.headers.get("x-transcode-cache") == "hit"
    assert posted.status_code == 206 and posted.content == got.content[:100]


def test_a_transcode_stays_cached_when_analysis_hashes_the_file(node, owner, ids):
    """Analysis gives a track its full-content ``file_id`` some time after the scan; a transcode made
    before that moment must still be found in the cache afterwards (it was keyed by file_id, and lost)."""
    import sqlite3

    params = {"id": ids["hyper"], "format": "mp3", "maxBitRate": 128, "timeOffset": "0.5"}
    db = sqlite3.connect(node.data.db_path, timeout=30)
    try:
        with db:  # as before analysis: the scan has run, the file is not hashed yet
            before = db.execute("SELECT file_id FROM track WHERE id = ?", (ids["hyper"],)).fetchone()[0]
            db.execute("UPDATE track SET file_id = NULL WHERE id = ?", (ids["hyper"],))
        got = call(owner, "GET", "stream", params)
        assert got.status_code == 200 and got.headers["x-transcode-cache"] == "miss"
        with db:  # what analysis writes when it has hashed the file
            db.execute("UPDATE track SET file_id = ? WHERE id = ?", (before or "f" * 64, ids["hyper"]))
        again = call(owner, "GET", "stream", params)
        assert again.headers["x-transcode-cache"] == "hit" and again.content == got.content
    finally:
        with db:
            db.execute("UPDATE track SET file_id = ? WHERE id = ?", (before, ids["hyper"]))
        db.close()
