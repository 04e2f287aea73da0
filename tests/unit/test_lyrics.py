"""Lyrics parsing: plain, synced and enhanced LRC, TTML with word timing, singers and background vocals."""

from __future__ import annotations

import pytest

from sonantica.node.api.subsonic.media import structured_lyrics
from sonantica.node.library.lyrics import parse_lrc, parse_ttml, ttml_time

TRACK = {"artist": "A", "title": "T"}

TTML = """<?xml version="1.0" encoding="UTF-8"?>
<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttm="http://www.w3.org/ns/ttml#metadata" xml:lang="en">
 <head><metadata>
  <ttm:agent type="person" xml:id="v1"><ttm:name type="full">Chris</ttm:name></ttm:agent>
  <ttm:agent type="person" xml:id="v2"><ttm:name type="full">Jin</ttm:name></ttm:agent>
  <ttm:agent type="group" xml:id="v3"/>
 </metadata></head>
 <body><div>
  <p begin="00:01.000" end="00:04.000" ttm:agent="v1"><span begin="00:01.000" end="00:01.800">You</span> <span
     begin="00:01.800" end="00:02.400">and</span> <span begin="00:02.400">I</span><span ttm:role="x-bg"><span
     begin="00:03.000" end="00:03.500">(ooh)</span></span></p>
  <p begin="4s" end="7s" ttm:agent="v2"><span begin="4s" end="4.8s">Un</span><span begin="4.8s" end="5.4s">der</span>
     <span begin="5.4s" end="7s">sky</span></p>
  <p begin="7000ms" end="10000ms" ttm:agent="v3">Together tonight</p>
 </div></body>
</tt>"""


def test_plain_and_synced_lrc_keep_their_shape():
    assert parse_lrc("one\ntwo\n") == {"synced": False, "tags": {},
                                       "lines": [{"start_ms": None, "text": "one"}, {"start_ms": None, "text": "two"}]}
    synced = parse_lrc("[offset:100]\n[00:01.50][00:03.00]la\n[00:02.00]di\n")
    assert synced["lines"] == [{"start_ms": 1400, "text": "la"}, {"start_ms": 1900, "text": "di"},
                               {"start_ms": 2900, "text": "la"}]
    assert "cue_lines" not in synced


def test_enhanced_lrc_words_with_byte_ranges():
    found = parse_lrc("[00:01.00]<00:01.00>Hé <00:01.50>là <00:02.25>ok<00:03.00>\n[00:04.00]plain line\n")
    assert found["lines"] == [{"start_ms": 1000, "text": "Hé là ok"}, {"start_ms": 4000, "text": "plain line"}]
    entry = structured_lyrics(found, TRACK, enhanced=True)
    assert entry["kind"] == "main" and "agents" not in entry
    (cue_line,) = entry["cueLine"]
    assert cue_line["index"] == 0 and cue_line["value"] == "Hé là ok" and cue_line["end"] == 3000
    raw = cue_line["value"].encode()
    for cue in cue_line["cue"]:  # every cue's bytes are its text, inclusive ranges
        assert raw[cue["byteStart"]:cue["byteEnd"] + 1].decode() == cue["value"]
    assert [(c["start"], c["end"]) for c in cue_line["cue"]] == [(1000, 1500), (1500, 2250), (2250, 3000)]
    # version 1 stays byte-identical without enhanced
    assert structured_lyrics(found, TRACK, enhanced=False) == {
        "displayArtist": "A", "displayTitle": "T", "lang": "xxx", "offset": 0, "synced": True,
        "line": [{"start": 1000, "value": "Hé là ok"}, {"start": 4000, "value": "plain line"}]}


def test_enhanced_lrc_without_end_stamp_has_no_ends():
    found = parse_lrc("[00:01.00]<00:01.00>one <00:02.00>two\n")
    cues = structured_lyrics(found, TRACK, enhanced=True)["cueLine"][0]["cue"]
    assert all("end" not in c for c in cues) and [c["value"] for c in cues] == ["one ", "two"]


def test_ttml_singers_words_and_background_vocals():
    found = parse_ttml(TTML.encode())
    assert found["synced"] and found["lang"] == "en"
    assert [line["text"] for line in found["lines"]] == ["You and I (ooh)", "Under sky", "Together tonight"]
    entry = structured_lyrics(found, TRACK, enhanced=True)
    assert entry["lang"] == "en"
    assert entry["agents"] == [{"id": "v1", "role": "main", "name": "Chris"}, {"id": "v2", "role": "voice",
                               "name": "Jin"}, {"id": "v3", "role": "group"}, {"id": "bg", "role": "bg"}]
    lead, bg, guest = entry["cueLine"]
    assert (lead["index"], lead["agentId"], lead["value"]) == (0, "v1", "You and I")
    assert [c["value"] for c in lead["cue"]] == ["You ", "and ", "I"]
    assert lead["cue"][-1]["end"] == 4000  # filled from the line's end: all cues carry an end
    assert (bg["index"], bg["agentId"], bg["value"]) == (0, "bg", "(ooh)")
    assert (guest["agentId"], guest["value"], guest["start"]) == ("v2", "Under sky", 4000)
    for cue_line in entry["cueLine"]:
        raw = cue_line["value"].encode()
        assert all(raw[c["byteStart"]:c["byteEnd"] + 1].decode() == c["value"] for c in cue_line["cue"])


@pytest.mark.parametrize("bad", [b"<tt", b"<html/>", b"<!DOCTYPE x [<!ENTITY a 'b'>]><tt xmlns='http://www.w3.org/ns/ttml'>&a;</tt>"])
def test_ttml_refuses_what_is_not_safe_ttml(bad):
    with pytest.raises(ValueError):
        parse_ttml(bad)


def test_ttml_times():
    assert [ttml_time(v) for v in ("01:02.5", "1:00:00.000", "2.5s", "1500ms", "3", "x", None)] == \
        [62500, 3_600_000, 2500, 1500, 3000, None, None]


LAYERED = """<tt xmlns="http://www.w3.org/ns/ttml" xmlns:ttm="http://www.w3.org/ns/ttml#metadata"
 xmlns:itunes="http://music.apple.com/lyric-ttml-internal" xml:lang="ja">
 <head><metadata><iTunesMetadata xmlns="http://music.apple.com/lyric-ttml-internal">
  <translations><translation xml:lang="en"><text for="L1">The moment I opened my eyes</text>
   <text for="L2">Everything changed</text></translation></translations>
 </iTunesMetadata></metadata></head>
 <body><div>
  <p begin="1s" end="2s" itunes:key="L1"><span begin="1s" end="1.5s">目を</span><span begin="1.5s" end="2s">開け</span><span
     ttm:role="x-roman" xml:lang="ja-Latn">me o ake</span></p>
  <p begin="2s" end="3s" itunes:key="L2">全部変わった<span ttm:role="x-roman" xml:lang="ja-Latn">zenbu kawatta</span></p>
 </div></body></tt>"""


def test_ttml_translations_and_romanisations_are_layers_of_their_own():
    found = parse_ttml(LAYERED.encode())
    assert [line["text"] for line in found["lines"]] == ["目を開け", "全部変わった"]  # the layers stay out
    assert [c["text"] for c in found["cue_lines"]] == ["目を開け"]
    layers = {(x["kind"], x["lang"]): x for x in found["layers"]}
    assert [(line["start_ms"], line["text"]) for line in layers[("translation", "en")]["lines"]] == [
        (1000, "The moment I opened my eyes"), (2000, "Everything changed")]
    assert [line["text"] for line in layers[("pronunciation", "ja-Latn")]["lines"]] == ["me o ake", "zenbu kawatta"]
    entry = structured_lyrics({**layers[("translation", "en")], "tags": {}}, TRACK, True, "translation")
    assert (entry["kind"], entry["lang"], entry["synced"], "cueLine" in entry) == ("translation", "en", True, False)
