"""Every format a collection holds, through a real node: indexed, served as is, transcoded, and
what the node cannot read counted in status (issue 17). One node for the module."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import av
import httpx
import pytest
from mutagen.id3 import ID3, SYLT

from tests.subsonic.harness import Sub, node_in_thread
from tests.support.audio import make_track
from tests.support.formats import make_cases
from tests.support.node import PASSWORD, init_node
from tests.unit.test_formats import broken_xing_mp3, damaged_picture_flac, junk_before_adts

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats-node")
    music = root / "music"
    cases = make_cases(music / "formats")
    broken = music / "broken"
    broken.mkdir(parents=True)
    broken_xing_mp3(broken / "xing.mp3")
    damaged_picture_flac(broken / "picture.flac")
    junk_before_adts(broken / "junk.aac")
    (broken / "noise.mp3").write_bytes(b"ID3\x04\0\0\0\0\0\0" + bytes(range(256)) * 40)
    (music / "other").mkdir()
    (music / "other" / "tune.mid").write_bytes(b"MThd\0\0\0\x06\0\0\0\x01\0\x60")
    (music / "other" / "tune.ofr").write_bytes(b"OFR " + b"\0" * 60)
    sylt = make_track(music / "lyrics" / "sung.mp3", "mp3", {"title": "Sung", "artist": "Singer"})
    tags = ID3(str(sylt))
    tags.add(SYLT(encoding=3, lang="eng", format=2, type=1, desc="", text=[("First line", 500), ("Second", 1750)]))
    tags.save()
    data = init_node(root / "node", music)
    return {"root": root, "music": music, "cases": cases, "data": data}


@pytest.fixture(scope="module")
def node(library):
    with node_in_thread(library["data"]) as running:
        yield running


@pytest.fixture(scope="module")
def http(node):
    with httpx.Client(base_url=node.url, timeout=60) as c:
        r = c.post("/api/v1/auth/login", json={"username": "owner", "password": PASSWORD})
        assert r.status_code == 200, r.text
        yield c


@pytest.fixture(scope="module")
def tracks(http):
    items = http.get("/api/v1/tracks", params={"limit": 500}).json()["items"]
    return {t["path"]: t for t in items}


def _decoded_seconds(data: bytes) -> float:
    with av.open(io.BytesIO(data)) as f:
        stream = f.streams.audio[0]
        n = sum(frame.samples for frame in f.decode(stream))
        return n / stream.rate


def test_every_case_is_indexed_with_its_codec(library, tracks):
    for name, (path, want) in library["cases"].items():
        rel = str(path.relative_to(library["music"]))
        assert rel in tracks, name
        t = tracks[rel]
        assert (t["codec"], t["lossless"]) == (want["codec"], want["lossless"]), name


def test_originals_are_served_as_they_are_and_transcodes_play(library, http, tracks):
    for name, (path, want) in library["cases"].items():
        t = tracks[str(path.relative_to(library["music"]))]
        r = http.get(t["stream_url"], params={"format": "raw"})
        assert r.status_code == 200 and r.content == path.read_bytes(), name
        assert r.headers["content-type"].startswith("audio/"), (name, r.headers["content-type"])
        if not want.get("decodes", True):
            continue
        r = http.get(t["stream_url"], params={"format": "opus", "bitrate": 64})
        assert r.status_code == 200, (name, r.text[:200])
        assert abs(_decoded_seconds(r.content) - t["duration"]) <= 0.5, name


def test_wrong_headers_are_indexed_and_reported(http, tracks):
    for rel in ("broken/xing.mp3", "broken/picture.flac", "broken/junk.aac"):
        assert tracks[rel]["duration"] == pytest.approx(1.0, abs=0.1), rel
    status = http.get("/api/v1/scan").json()
    assert status["library"]["header_wrong"] == 3
    errors = http.get("/api/v1/scan/errors").json()
    notes = {n["path"]: n["note"] for n in errors["notes"]}
    assert set(notes) == {"broken/xing.mp3", "broken/picture.flac", "broken/junk.aac"}
    assert all(note.startswith("header wrong") for note in notes.values())
    reasons = {e["path"]: e["reason"] for e in errors["items"]}
    assert "broken/noise.mp3" in reasons and "broken/noise.mp3" not in tracks


def test_unsupported_formats_are_counted(http, library, node):
    status = http.get("/api/v1/scan").json()
    assert status["library"]["unsupported"] == 2
    assert status["unsupported_formats"] == {".mid": 1, ".ofr": 1}
    assert status["cannot_transcode"] == {}  # this build decodes every codec indexed here, DSD included
    out = subprocess.run([sys.executable, "-m", "sonantica.node.cli", "--data", str(library["data"].root), "status"],
                         capture_output=True, text=True, timeout=60)
    assert "unsupported format: 2 files not indexed (.mid 1, .ofr 1)" in out.stdout, out.stdout + out.stderr
    assert "header wrong: 3 files" in out.stdout


def test_sylt_lyrics_reach_subsonic_apps_as_synced_lines(node, http, tracks):
    r = http.post("/api/v1/me/subsonic-password")
    sub = Sub(node.url, "owner", r.json()["password"])
    body = sub.json("getLyricsBySongId", {"id": tracks["lyrics/sung.mp3"]["id"]})
    lyrics = body["lyricsList"]["structuredLyrics"][0]
    assert lyrics["synced"] is True
    assert [(x["start"], x["value"]) for x in lyrics["line"]] == [(500, "First line"), (1750, "Second")]


def test_comparison_script_agrees_fully_on_the_generated_set(library):
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "formats.py"), str(library["music"] / "formats")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["indexed"] == len(library["cases"]) and result["fields_compared"] > 200
    assert result["agreement"] == 100.0, result["differences"]


def test_codecs_few_players_decode_are_transcoded_unless_the_original_is_asked(library, node, http, tracks):
    dsd = tracks["formats/dsd.dsf"]
    flac = tracks["formats/flac.mka"]
    r = http.get(dsd["stream_url"])  # no format: the default (original on the LAN) would be unplayable
    assert r.status_code == 200 and r.headers["content-type"].startswith("audio/ogg")
    assert abs(_decoded_seconds(r.content) - dsd["duration"]) <= 0.5
    tta = tracks["formats/t.tta"]  # a tone with noise: Opus spends the bitrate it is given
    r = http.get(tta["stream_url"])
    assert r.headers["content-type"].startswith("audio/ogg")
    assert len(r.content) * 8 / tta["duration"] > 180_000  # on the LAN at 256 kbit/s, not the WAN default
    r = http.get(dsd["stream_url"], params={"format": "raw"})
    assert r.content == (library["music"] / "formats" / "dsd.dsf").read_bytes()
    sub = Sub(node.url, "owner", http.post("/api/v1/me/subsonic-password").json()["password"])
    songs = {s["path"]: s for s in sub.json("search3", {"query": "", "songCount": 500})["searchResult3"]["song"]}
    assert songs["formats/dsd.dsf"]["transcodedSuffix"] == "opus"
    assert songs["formats/dsd.dsf"]["transcodedContentType"] == "audio/ogg"
    assert songs["formats/dsd.dsf"]["suffix"] == "dsf"
    assert "transcodedSuffix" not in songs[f"formats/{Path(flac['path']).name}"]
    r = sub.raw("stream", {"id": dsd["id"]}, fmt="")
    assert r.status_code == 200 and r.headers["content-type"].startswith("audio/ogg")
    r = sub.raw("stream", {"id": dsd["id"], "format": "raw"}, fmt="")
    assert r.content == (library["music"] / "formats" / "dsd.dsf").read_bytes()
