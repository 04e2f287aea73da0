"""Hostile parameter values on every Subsonic method and native operation of a real node: never an unexpected error.

Every parameter parsed as a number, a time, a boolean or an id gets
hypothesis-generated values (huge, negative, fractional, NaN, infinities,
microsecond and second timestamps, words, control characters, real ids of
the wrong kind). The node must answer each with a result or a clear error
(Subsonic: an envelope with a defined code; native: 4xx in the one error
shape), never a 500 or "unexpected error", and a refused call must leave the
users' data as it was (a scrobble with a bad ``time`` books nothing).

The native operations and their parameters are read from the node's own
OpenAPI document (query parameters, path parameters, JSON body properties),
so a new route is fuzzed as soon as it is documented.
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import quote

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sonantica.node.api.subsonic import METHODS
from sonantica.node.store.db import Store
from tests.subsonic.conftest import app_password, build_library
from tests.subsonic.harness import Sub, node_in_thread
from tests.support.node import PASSWORD, init_node

# Subsonic parameters read as numbers, times, booleans or ids, by any method (each method gets any of them:
# a parameter a method does not read must be ignored, one it reads must be parsed)
SUBSONIC_NUMBERS = ["count", "size", "offset", "musicFolderId", "fromYear", "toYear", "timeOffset", "rating",
                    "position", "maxBitRate", "artistCount", "albumCount", "songCount", "artistOffset",
                    "albumOffset", "songOffset", "songIndexToRemove", "time", "ifModifiedSince", "currentIndex",
                    "positionMs", "playbackRate"]
SUBSONIC_BOOLEANS = ["submission", "public", "fullScan", "estimateContentLength", "ignoreScrobble"]
SUBSONIC_IDS = ["id", "albumId", "artistId", "playlistId", "songIdToAdd", "songId", "current", "mediaId"]
# methods left out, and why: none. (startScan runs a scan of the small library; stream/download send files.)
USER_TABLES = ["annotation", "play", "play_queue", "playlist_item", "now_playing", "listen_item", "user",
               "api_key"]

NOW_MS = 1_800_000_000_000
hostile_text = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", "nan", "NaN", "inf", "-inf", "Infinity", "1e400", "-1e400", "1e308", "0.5", "-0", "1.5",
                     "0x10", "1_000", " 7 ", "true", "yes", "null", "[]", "{}", "%", "\x00", "9" * 5000,
                     "-9" * 30, "1" * 41, "١٢", "²", "253402300800000", "1700000000", "1700000000000000",
                     "1700000000000", "946684799999", "9999-12-31", "0001-01-01", "2024-02-30"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=12),
)


@pytest.fixture(scope="module")
def fuzz_node(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz")
    music = root / "music"
    build_library(music)
    data = init_node(root / "node", music, users={"owner": "owner", "lis": "listener"})
    with node_in_thread(data) as node:
        yield node


@pytest.fixture(scope="module")
def sub(fuzz_node):
    return Sub(fuzz_node.url, "lis", app_password(fuzz_node, "lis"))


@pytest.fixture(scope="module")
def real_ids(sub):
    """Ids of every kind that exist (a song, an album, an artist, a playlist), to mix in with junk."""
    songs = sub.json("search3", {"query": ""})["searchResult3"]["song"]
    sub.json("createPlaylist", [("name", "fuzz"), ("songId", songs[0]["id"])])
    playlist = sub.json("getPlaylists")["playlists"]["playlist"][0]["id"]
    return [songs[0]["id"], songs[0]["albumId"], songs[0]["artistId"], playlist, "em-0", "tr-", "al-nope"]


def fingerprint(node) -> str:
    """A digest of the users' own data (plays, stars, ratings, playlists, queue, accounts)."""
    store = Store.open(node.data.db_path)
    try:
        def read(db):
            h = hashlib.sha256()
            for table in USER_TABLES:
                for row in sorted(repr(r) for r in db.conn.execute(f"SELECT * FROM {table}")):
                    h.update(row.encode())
            return h.hexdigest()

        return store.read_sync(read)
    finally:
        store.close()


def value_for(name: str, ids: list[str]):
    if name in SUBSONIC_IDS:
        return st.one_of(st.sampled_from(ids), hostile_text)
    if name in SUBSONIC_BOOLEANS:
        return st.one_of(st.sampled_from(["true", "false", "TRUE", "1", "0"]), hostile_text)
    return hostile_text


def test_every_subsonic_method_is_fuzzed():
    """The fuzz below draws methods from the live method table: none can be added without being fuzzed."""
    assert len(METHODS) >= 48 and "scrobble" in METHODS


def test_scrobble_time_far_out_of_range_is_a_clear_error_and_books_nothing(sub, fuzz_node, real_ids):
    """The reported case: a client sending microseconds (and seconds, and garbage)."""
    song = real_ids[0]
    before = fingerprint(fuzz_node)
    for bad in ("1700000000000000", "1700000000", "99999999999999999999", "nan", "inf", "-5", "soon"):
        error = sub.error("scrobble", [("id", song), ("time", bad)])
        assert error["code"] == 0, error  # generic: present but wrong (10 is for missing)
        assert "time" in error["message"] and "unexpected" not in error["message"], error
    # several ids: a bad second time refuses the whole call before the first is booked
    error = sub.error("scrobble", [("id", song), ("id", song), ("time", "1700000000000"), ("time", "17e20")])
    assert error["code"] == 0
    assert fingerprint(fuzz_node) == before
    sub.json("scrobble", [("id", song), ("time", "1700000000000")])
    assert fingerprint(fuzz_node) != before


HTTP_ERRORS = {"getTranscodeStream"}  # methods whose errors are HTTP statuses, not envelopes


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_subsonic_hostile_numbers_times_booleans_ids(sub, fuzz_node, real_ids, data):
    name = data.draw(st.sampled_from(sorted(METHODS)), label="method")
    chosen = data.draw(st.lists(st.sampled_from(SUBSONIC_NUMBERS + SUBSONIC_BOOLEANS + SUBSONIC_IDS),
                                min_size=1, max_size=4, unique=True), label="params")
    params = [(p, data.draw(value_for(p, real_ids), label=p)) for p in chosen]
    if name in ("stream", "download", "getCoverArt"):
        params.append(("f", "json"))
    before = fingerprint(fuzz_node)
    r = sub.raw(name, params, post=data.draw(st.booleans(), label="post"))
    if name in HTTP_ERRORS and r.status_code != 200:
        # its spec page: "in case of an error, a standard HTTP error code … with a descriptive message"
        assert 400 <= r.status_code < 500 and r.text.strip(), (name, params, r.status_code, r.text[:300])
        assert fingerprint(fuzz_node) == before, (name, params, "a refused call changed the users' data")
        return
    assert r.status_code == 200, (name, params, r.status_code, r.text[:300])
    if not r.headers.get("content-type", "").startswith("application/json"):
        return  # a stream, a file or an image: it was accepted
    inner = r.json()["subsonic-response"]
    if inner["status"] == "failed":
        error = inner["error"]
        assert "unexpected" not in error["message"], (name, params, error)
        assert error["code"] in (0, 10, 50, 70), (name, params, error)
        assert fingerprint(fuzz_node) == before, (name, params, "a refused call changed the users' data")


# -- native API ------------------------------------------------------------------------------------------------
def native_operations(doc: dict) -> list[tuple[str, str, dict]]:
    """(method, path template, operation) for every documented operation, minus those that end the caller's access."""
    ops = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if (method, path) in NATIVE_SKIP:
                continue
            ops.append((method.upper(), path, op))
    return ops


# operations left out of the native fuzz, and why: each would end the session or account the run signs in with
NATIVE_SKIP = {
    ("post", "/api/v1/auth/logout"),  # ends the session
    ("put", "/api/v1/me/password"),  # a lucky draw of the old password would change it
    ("delete", "/api/v1/users/{user_id}"),  # a real id would delete the account
    ("post", "/api/v1/federation/leave"),  # leaves the federation
}


def _body_fields(op: dict) -> dict:
    content = (op.get("requestBody") or {}).get("content", {}).get("application/json", {})
    return (content.get("schema") or {}).get("properties", {})


def _hostile_json():
    return st.one_of(
        st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True, allow_infinity=True),
        hostile_text, st.booleans(), st.none(), st.lists(st.integers(), max_size=3),
        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2))


def _encode(value) -> str:
    return json.dumps(value, allow_nan=True)


@pytest.fixture(scope="module")
def native(fuzz_node):
    c = httpx.Client(base_url=fuzz_node.url, timeout=30)
    r = c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
    assert r.status_code == 200
    c.headers["Authorization"] = "Bearer " + r.json()["token"]
    c.headers["Connection"] = "close"  # one connection per call: a refused call must not depend on the last one
    return c


class Operations(list):
    def __repr__(self) -> str:  # hypothesis prints its arguments: not the whole document
        return f"<{len(self)} native operations>"


@pytest.fixture(scope="module")
def operations(native):
    return Operations(native_operations(native.get("/api/v1/openapi.json").json()))


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_native_hostile_query_path_and_body_values(native, operations, fuzz_node, real_ids, data):
    method, template, op = data.draw(st.sampled_from(operations), label="operation")
    op = {k: op[k] for k in ("parameters", "requestBody") if k in op}
    path = template
    for name in re.findall(r"{(\w+)}", template):
        value = data.draw(st.one_of(st.sampled_from(real_ids), hostile_text.filter(lambda v: v not in ("", ".", ".."))),
                          label=name)
        path = path.replace("{" + name + "}", quote(value, safe=""))
    query = {p["name"]: data.draw(hostile_text, label=p["name"])
             for p in op.get("parameters", []) if p["in"] == "query" and data.draw(st.booleans())}
    body = None
    fields = _body_fields(op)
    if method in ("POST", "PUT", "PATCH"):
        body = {k: data.draw(_hostile_json(), label=k) for k in fields if data.draw(st.booleans())}
    before = fingerprint(fuzz_node)
    with native.stream(method, path, params=query,
                       content=None if body is None else _encode(body),
                       headers={"Content-Type": "application/json"} if body is not None else {}) as r:
        if r.status_code < 400:
            return
        r.read()
    assert r.status_code < 500 or r.status_code == 503, (method, path, query, body, r.status_code, r.text[:300])
    err = r.json()["error"]
    assert err["code"] not in ("internal_error", "node_error"), (method, path, query, body, err)
    assert fingerprint(fuzz_node) == before, (method, path, query, body, "a refused call changed the users' data")
