"""The 2025–26 OpenSubsonic surface on one real node: songLyrics 2, transcoding, the new response fields.

Every JSON answer is validated against the OpenSubsonic OpenAPI and every XML
answer against the XSD by the harness (tests/subsonic/oracle.py).
"""

from __future__ import annotations

import httpx
import pytest

from tests.support.audio import make_track
from tests.support.node import PASSWORD, init_node

from .conftest import app_password
from .harness import Sub, node_in_thread

ENHANCED_LRC = "[ar:Sirens]\n[00:00.20]<00:00.20>Sing <00:00.45>to <00:00.60>me<00:00.90>\n[00:01.00]No words here\n"
TTML = """<?xml version="1.0" encoding="UTF-8"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttm="http://www.w3.org/ns/ttml#metadata" xml:lang="fr">
 <head><metadata><ttm:agent type="person" xml:id="v1"><ttm:name>Léa</ttm:name></ttm:agent>
 <ttm:agent type="person" xml:id="v2"/></metadata></head>
 <body><div>
  <p begin="0.1s" end="0.9s" ttm:agent="v1"><span begin="0.1s" end="0.3s">Ça</span> <span begin="0.3s" end="0.9s">va</span></p>
  <p begin="1s" end="1.5s" ttm:agent="v2"><span begin="1s" end="1.5s">oui</span></p>
 </div></body></tt>"""


def build(music):
    album = {"album": "Next", "albumartist": "Sirens", "date": "2025", "genre": "Pop"}
    make_track(music / "next" / "01.flac", "flac", {**album, "title": "Karaoke", "artist": "Sirens",
                                                    "tracknumber": "1"}, seed=11)
    (music / "next" / "01.lrc").write_text(ENHANCED_LRC)
    make_track(music / "next" / "02.flac", "flac", {**album, "title": "Duet", "artist": "Sirens",
                                                    "tracknumber": "2"}, seed=12)
    (music / "next" / "02.ttml").write_text(TTML)
    (music / "next" / "02.lrc").write_text("[00:00.10]fallback\n")  # TTML is richer and wins


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    root = tmp_path_factory.mktemp("osnext")
    build(root / "music")
    data = init_node(root / "node", root / "music", users={"owner": "owner"})
    with node_in_thread(data) as running:
        yield running


@pytest.fixture(scope="module")
def owner(node):
    return Sub(node.url, "owner", app_password(node, "owner"))


@pytest.fixture(scope="module")
def songs(owner):
    found = owner.json("search3", {"query": "", "songCount": 100})["searchResult3"]["song"]
    return {s["title"]: s for s in found}


@pytest.fixture(scope="module")
def native(node):
    with httpx.Client(base_url=node.url, timeout=30) as c:
        assert c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD}).status_code == 200
        yield c


def test_song_lyrics_version_2_is_advertised(owner):
    exts = {e["name"]: e["versions"] for e in owner.json("getOpenSubsonicExtensions")["openSubsonicExtensions"]}
    assert exts["songLyrics"] == [1, 2]


def test_enhanced_lrc_gives_word_cues_only_when_asked(owner, songs):
    ident = songs["Karaoke"]["id"]
    plain = owner.json("getLyricsBySongId", {"id": ident})["lyricsList"]["structuredLyrics"][0]
    assert "cueLine" not in plain and "kind" not in plain
    assert [line["value"] for line in plain["line"]] == ["Sing to me", "No words here"]
    entry = owner.json("getLyricsBySongId", {"id": ident, "enhanced": "true"})["lyricsList"]["structuredLyrics"][0]
    assert entry["kind"] == "main" and entry["line"] == plain["line"]
    (cue_line,) = entry["cueLine"]  # the second line has no word stamps: plain synced line only
    assert cue_line["value"] == "Sing to me" and cue_line["end"] == 900
    assert [(c["value"], c["start"], c["end"], c["byteStart"], c["byteEnd"]) for c in cue_line["cue"]] == [
        ("Sing ", 200, 450, 0, 4), ("to ", 450, 600, 5, 7), ("me", 600, 900, 8, 9)]
    xml = owner.xml("getLyricsBySongId", {"id": ident, "enhanced": "true"})
    ns = "{http://subsonic.org/restapi}"
    cue_el = xml.find(f"{ns}lyricsList/{ns}structuredLyrics/{ns}cueLine")
    assert cue_el.get("value") == "Sing to me" and [c.text for c in cue_el] == ["Sing ", "to ", "me"]


def test_ttml_beside_the_track_names_its_singers(owner, songs, native):
    ident = songs["Duet"]["id"]
    entry = owner.json("getLyricsBySongId", {"id": ident, "enhanced": "true"})["lyricsList"]["structuredLyrics"][0]
    assert entry["lang"] == "fr" and [line["value"] for line in entry["line"]] == ["Ça va", "oui"]
    assert entry["agents"] == [{"id": "v1", "role": "main", "name": "Léa"}, {"id": "v2", "role": "voice"}]
    first, second = entry["cueLine"]
    assert (first["agentId"], first["value"], [c["byteEnd"] for c in first["cue"]]) == ("v1", "Ça va", [3, 5])
    assert second["agentId"] == "v2"
    xml = owner.xml("getLyricsBySongId", {"id": ident, "enhanced": "true"})
    ns = "{http://subsonic.org/restapi}"
    assert [a.get("name") for a in xml.iter(f"{ns}agent")] == ["Léa", None]
    mine = native.get(f"/api/v1/tracks/{ident}/lyrics").json()
    assert mine["source"] == "ttml" and mine["cue_lines"][0]["words"][0] == {"start_ms": 100, "end_ms": 300,
                                                                             "text": "Ça "}
