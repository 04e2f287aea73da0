"""The 2025–26 OpenSubsonic surface on one real node: songLyrics 2, transcoding, the new response fields.

Every JSON answer is validated against the OpenSubsonic OpenAPI and every XML
answer against the XSD by the harness (tests/subsonic/oracle.py).
"""

from __future__ import annotations

import io
import json

import av
import httpx
import pytest

from tests.support.aio import run_asyncio
from tests.support.audio import jpeg, make_track
from tests.support.node import PASSWORD, init_node

from .conftest import app_password
from .harness import Sub, node_in_thread
from .oracle import check_json

ENHANCED_LRC = "[ar:Sirens]\n[00:00.20]<00:00.20>Sing <00:00.45>to <00:00.60>me<00:00.90>\n[00:01.00]No words here\n"
TTML = """<?xml version="1.0" encoding="UTF-8"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttm="http://www.w3.org/ns/ttml#metadata" xml:lang="fr">
 <head><metadata><ttm:agent type="person" xml:id="v1"><ttm:name>Léa</ttm:name></ttm:agent>
 <ttm:agent type="person" xml:id="v2"/></metadata></head>
 <body><div>
  <p begin="0.1s" end="0.9s" ttm:agent="v1"><span begin="0.1s" end="0.3s">Ça</span> <span begin="0.3s" end="0.9s">va</span></p>
  <p begin="1s" end="1.5s" ttm:agent="v2"><span begin="1s" end="1.5s">oui</span><span ttm:role="x-translation"
     xml:lang="en">yes</span></p>
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
    opus = {"album": "Symphony No. 9", "albumartist": "Orchestra", "date": "1990", "albumversion": "2020 Remaster",
            "work": "Symphony No. 9 in D minor", "musicbrainz_workid": "2a4b2f5c-1111-4222-8333-944455556666",
            "grouping": ["Romantic", "Symphonies"], "artist": "Orchestra"}
    make_track(music / "sym" / "cd1" / "01.flac", "flac", {
        **opus, "title": "I. Allegro", "tracknumber": "1", "discnumber": "1/2", "discsubtitle": "The first night",
        "movementname": "Allegro ma non troppo", "movement": "1", "movementtotal": "4", "isrc": "US-S1Z-99-00001"},
        cover=jpeg(32, (10, 200, 10)), seed=21)
    make_track(music / "sym" / "cd2" / "01.flac", "flac", {
        **opus, "title": "IV. Finale", "tracknumber": "1", "discnumber": "2/2", "discsubtitle": "The second night",
        "movementname": "Finale", "movement": "4/4"}, cover=jpeg(32, (200, 10, 10)), seed=22)
    make_track(music / "sym" / "id3.mp3", "mp3", {"title": "Tagged by iTunes", "artist": "Orchestra",
                                                  "album": "Singles"}, seed=23)
    from mutagen import id3  # iTunes' convention: GRP1 is the grouping, TIT1 the work

    tags = id3.ID3(str(music / "sym" / "id3.mp3"))
    tags.add(id3.GRP1(encoding=3, text=["Live"]))
    tags.add(id3.TIT1(encoding=3, text=["Rhapsody"]))
    tags.add(id3.MVNM(encoding=3, text=["Adagio"]))
    tags.add(id3.MVIN(encoding=3, text=["2/3"]))
    tags.add(id3.TSRC(encoding=3, text=["GBAYE0601498"]))
    tags.save()
    make_track(music / "next" / "03.flac", "flac", {**album, "title": "Hi-Res", "artist": "Sirens",
                                                    "tracknumber": "3"}, seconds=2.0, sr=96000, bit_depth=24, seed=13)


@pytest.fixture(scope="module")
def music(tmp_path_factory):
    root = tmp_path_factory.mktemp("osnext")
    build(root / "music")
    return root / "music"


@pytest.fixture(scope="module")
def node(music):
    data = init_node(music.parent / "node", music, users={"owner": "owner"})
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
    everything = owner.json("getLyricsBySongId", {"id": ident, "enhanced": "true"})["lyricsList"]["structuredLyrics"]
    assert [(e["kind"], e["lang"]) for e in everything] == [("main", "fr"), ("translation", "en")]
    assert everything[1]["line"] == [{"start": 1000, "value": "yes"}]
    v1 = owner.json("getLyricsBySongId", {"id": ident})["lyricsList"]["structuredLyrics"]
    assert len(v1) == 1 and "kind" not in v1[0]  # without enhanced: the main layer only, as in version 1
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


MP3_CLIENT = {
    "name": "Speaker", "platform": "tests", "maxTranscodingAudioBitrate": 192000,
    "directPlayProfiles": [{"containers": ["mp3"], "audioCodecs": ["mp3"], "protocols": ["http"]}],
    "transcodingProfiles": [{"container": "mp3", "audioCodec": "mp3", "protocol": "http", "maxAudioChannels": 1}],
}


def decision(owner: Sub, ident: str, body) -> dict:
    query = {"mediaId": ident, "mediaType": "song", "v": "1.16.1", "c": "tests", "f": "json", **owner.auth()}
    r = owner.http.post("/rest/getTranscodeDecision", params=query,
                        content=body if isinstance(body, bytes) else json.dumps(body).encode(),
                        headers={"Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    check_json("getTranscodeDecision", r.json())
    return r.json()["subsonic-response"]


def transcode_stream(owner: Sub, ident: str, params: str, **extra) -> httpx.Response:
    return owner.http.get("/rest/getTranscodeStream", params={
        "mediaId": ident, "mediaType": "song", "transcodeParams": params, "v": "1.16.1", "c": "tests",
        **owner.auth(), **extra})


def test_transcoding_is_advertised(owner):
    names = {e["name"] for e in owner.json("getOpenSubsonicExtensions")["openSubsonicExtensions"]}
    assert "transcoding" in names


def test_a_client_without_flac_gets_a_playable_mp3_of_the_hires_song(owner, songs):
    ident = songs["Hi-Res"]["id"]
    out = decision(owner, ident, MP3_CLIENT)["transcodeDecision"]
    assert out["canDirectPlay"] is False and out["canTranscode"] is True
    assert out["transcodeReason"] == ["container flac not supported"]
    assert out["sourceStream"]["audioSamplerate"] == 96000 and out["sourceStream"]["audioBitdepth"] == 24
    target = out["transcodeStream"]
    assert (target["codec"], target["audioSamplerate"], target["audioChannels"], target["audioBitrate"]) == \
        ("mp3", 48000, 1, 192000)
    r = transcode_stream(owner, ident, out["transcodeParams"])
    assert r.status_code == 200 and r.headers["content-type"].startswith("audio/mpeg")
    with av.open(io.BytesIO(r.content)) as f:  # it plays: decode it all, as the decision said
        stream = f.streams.audio[0]
        assert (stream.codec_context.name.replace("float", ""), stream.codec_context.sample_rate, stream.codec_context.channels) == \
            ("mp3", 48000, 1)
        samples = sum(frame.samples for frame in f.decode(stream))
    assert abs(samples / 48000 - 2.0) < 0.1
    later = transcode_stream(owner, ident, out["transcodeParams"], offset=1)
    with av.open(io.BytesIO(later.content)) as f:
        samples = sum(frame.samples for frame in f.decode(f.streams.audio[0]))
    assert abs(samples / 48000 - 1.0) < 0.1


def test_the_decision_in_xml(owner, songs):
    from .oracle import check_xml

    query = {"mediaId": songs["Hi-Res"]["id"], "mediaType": "song", "v": "1.16.1", "c": "tests", **owner.auth()}
    r = owner.http.post("/rest/getTranscodeDecision", params=query, content=json.dumps(MP3_CLIENT).encode(),
                        headers={"Content-Type": "application/json"})
    doc = check_xml(r.content)
    ns = "{http://subsonic.org/restapi}"
    out = doc.find(f"{ns}transcodeDecision")
    assert out.get("canDirectPlay") == "false" and out.find(f"{ns}transcodeStream").get("codec") == "mp3"
    assert [e.text for e in out.findall(f"{ns}transcodeReason")] == ["container flac not supported"]


def test_a_flac_client_gets_the_original_bytes(owner, songs, music):
    ident = songs["Hi-Res"]["id"]
    body = {"name": "Hifi", "platform": "tests",
            "directPlayProfiles": [{"containers": ["flac"], "audioCodecs": ["flac"], "protocols": ["http"]}]}
    out = decision(owner, ident, body)["transcodeDecision"]
    assert out["canDirectPlay"] is True and "transcodeReason" not in out
    r = transcode_stream(owner, ident, out["transcodeParams"])
    assert r.status_code == 200 and r.content == (music / "next" / "03.flac").read_bytes()


def test_bad_requests_are_explained(owner, songs):
    ident = songs["Hi-Res"]["id"]
    bad = decision(owner, ident, b"{not json")
    assert bad["status"] == "failed" and "ClientInfo" in bad["error"]["message"]
    wrong = decision(owner, ident, {"name": "x", "platform": "y", "directPlayProfiles": "flac"})
    assert "directPlayProfiles" in wrong["error"]["message"]
    assert decision(owner, "tr-nothing", MP3_CLIENT)["error"]["code"] == 70
    for kind, wrong in (("podcast", ident), ("podcast", "pe-nothing")):
        query = {"mediaId": wrong, "mediaType": kind, "v": "1.16.1", "c": "tests", "f": "json", **owner.auth()}
        body = owner.http.post("/rest/getTranscodeDecision", params=query, content=json.dumps(MP3_CLIENT).encode(),
                               headers={"Content-Type": "application/json"}).json()
        check_json("getTranscodeDecision", body)
        assert body["subsonic-response"]["error"]["code"] == 70
        assert "podcast episode" in body["subsonic-response"]["error"]["message"]
    r = transcode_stream(owner, ident, "flac-9-9-9")
    assert r.status_code == 400 and "getTranscodeDecision" in r.text
    assert transcode_stream(owner, "tr-nothing", "raw").status_code == 404


def test_songs_carry_isrc_work_movement_and_groupings(owner, songs):
    first = owner.json("getSong", {"id": songs["I. Allegro"]["id"]})["song"]
    assert first["isrc"] == ["USS1Z9900001"]
    assert first["groupings"] == ["Romantic", "Symphonies"]
    assert first["works"] == [{"name": "Symphony No. 9 in D minor",
                               "musicBrainzId": "2a4b2f5c-1111-4222-8333-944455556666"}]
    assert first["movements"] == [{"name": "Allegro ma non troppo", "number": 1, "count": 4}]
    assert songs["IV. Finale"]["movements"] == [{"name": "Finale", "number": 4, "count": 4}]
    itunes = songs["Tagged by iTunes"]
    assert (itunes["groupings"], itunes["works"], itunes["isrc"]) == (["Live"], [{"name": "Rhapsody"}], ["GBAYE0601498"])
    assert itunes["movements"] == [{"name": "Adagio", "number": 2, "count": 3}]
    plain = songs["Karaoke"]
    assert not {"isrc", "groupings", "works", "movements"} & set(plain)  # absent, not empty, when untagged
    owner.xml("getSong", {"id": songs["I. Allegro"]["id"]})


def test_album_version_and_disc_titles_with_their_covers(owner, songs):
    album = owner.json("getAlbum", {"id": songs["I. Allegro"]["albumId"]})["album"]
    assert album["version"] == "2020 Remaster"
    discs = album["discTitles"]
    assert [(d["disc"], d["title"]) for d in discs] == [(1, "The first night"), (2, "The second night")]
    covers = [owner.raw("getCoverArt", {"id": d["coverArt"]}, fmt="").content for d in discs]
    assert covers[0][:2] == b"\xff\xd8" and covers[0] != covers[1]  # each disc its own picture
    assert "discTitles" not in owner.json("getAlbum", {"id": songs["Karaoke"]["albumId"]})["album"]
    listed = {a["name"]: a for a in owner.json("getAlbumList2", {"type": "alphabeticalByName"})["albumList2"]["album"]}
    assert listed["Symphony No. 9"]["version"] == "2020 Remaster" and "version" not in listed["Next"]


def test_generated_playlists_are_readonly_and_say_when_they_change(owner, native, songs):
    import time

    mine = owner.json("createPlaylist", {"name": "Mine", "songId": songs["Karaoke"]["id"]})["playlist"]
    assert mine["readonly"] is False and "validUntil" not in mine
    r = native.post("/api/v1/smart-playlists", json={"name": "All of it", "rules": {"all": [{"gt": {"duration": 0}}]}})
    assert r.status_code == 201, r.text
    listed = {p["name"]: p for p in owner.json("getPlaylists")["playlists"]["playlist"]}
    smart = listed["All of it"]
    assert smart["readonly"] is True
    until = smart["validUntil"]
    from datetime import datetime

    seconds = datetime.fromisoformat(until.replace("Z", "+00:00")).timestamp() - time.time()
    assert 0 < seconds <= 61
    assert owner.error("updatePlaylist", {"playlistId": smart["id"], "name": "x"})["code"] == 50
    assert native.post("/api/v1/generated-playlists/refresh").status_code == 200
    generated = [p for p in owner.json("getPlaylists")["playlists"]["playlist"] if p["name"] not in ("Mine", "All of it")]
    assert "Discoveries" in [p["name"] for p in generated]
    for p in generated:  # discoveries, daily mixes…: until tomorrow's refresh
        assert p["readonly"] is True
        left = datetime.fromisoformat(p["validUntil"].replace("Z", "+00:00")).timestamp() - time.time()
        assert 86_000 < left <= 86_400


def test_song_sources_of_a_node_alone(owner, songs, node):
    names = {e["name"] for e in owner.json("getOpenSubsonicExtensions")["openSubsonicExtensions"]}
    assert "songSources" in names
    ids = [songs["Karaoke"]["id"], songs["Duet"]["id"]]
    found = owner.json("getSongSources", [("id", i) for i in ids])["songSources"]
    assert [f["id"] for f in found] == ids
    for f in found:
        assert f["reason"] == "local" and [s["self"] for s in f["source"]] == [True]
        assert f["serving"] == f["source"][0]["id"] and f["source"][0]["serving"] is True
    assert owner.error("getSongSources", {"id": "tr-nothing"})["code"] == 70
    assert owner.error("getSongSources")["code"] == 10
    owner.xml("getSongSources", {"id": ids[0]})


def test_an_independent_client_library_drives_the_new_methods(node, songs):
    """py-opensonic (PyPI, imported as libopensonic): transcoding and lyrics as a client author wrote them."""
    from urllib.parse import urlsplit

    libopensonic = pytest.importorskip("libopensonic")
    url = urlsplit(node.url)
    password = app_password(node, "owner")

    async def run():
        conn = libopensonic.AsyncConnection(f"{url.scheme}://{url.hostname}", port=url.port, app_name="py-opensonic",
                                            username="owner", password=password)
        try:
            decision = await conn.get_transcode_decision(songs["Hi-Res"]["id"], "song", MP3_CLIENT)
            assert decision.can_direct_play is False and decision.can_transcode is True
            resp = await conn.get_transcode_stream(songs["Hi-Res"]["id"], "song", decision.transcode_params)
            data = await resp.read()
            with av.open(io.BytesIO(data)) as f:
                assert f.streams.audio[0].codec_context.sample_rate == 48000
                assert sum(frame.samples for frame in f.decode(f.streams.audio[0])) > 48000 * 1.9
            lyrics = await conn.get_lyrics_by_song_id(songs["Karaoke"]["id"])
            assert lyrics[0].synced and lyrics[0].line[0].value == "Sing to me"
            similar_ids = {e.name for e in await conn.get_open_subsonic_extensions()}
            assert {"transcoding", "songLyrics", "songSources"} <= similar_ids
        finally:
            await conn.cleanup()

    run_asyncio(run)
