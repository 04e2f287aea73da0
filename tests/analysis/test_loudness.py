"""Loudness within 0.1 LU of pyloudnorm; true peak within 0.2 dB of a 16x FFT reference."""

import zlib

import numpy as np
import pyloudnorm
import pytest

from sonantica.node.analysis.features.loudness import Loudness, album_gain
from tests.analysis.music import render


def _measure(x, sr, block=65536):
    meter = Loudness(sr, x.shape[1])
    for i in range(0, len(x), block):
        meter.feed(x[i:i + block])
    return meter.result()


def _true_peak_reference(x, factor=16):
    n = len(x)
    up = np.fft.irfft(np.fft.rfft(x.astype(np.float64), axis=0), n * factor, axis=0) * factor
    return float(np.abs(up).max())


def _material(kind, sr, seconds=12.0):
    rng = np.random.default_rng(zlib.crc32(kind.encode()))  # hash() of a str changes per process
    n = int(seconds * sr)
    t = np.arange(n) / sr
    if kind == "music":
        return render(4, "minor", 118, seconds, seed=3, sr=sr)
    if kind == "noise":
        return (0.25 * rng.standard_normal((n, 2))).astype(np.float32)
    if kind == "sine_mono":
        return (0.5 * np.sin(2 * np.pi * 997 * t))[:, None].astype(np.float32)
    if kind == "gated":  # loud / near silence / quiet: exercises both gates
        x = 0.3 * rng.standard_normal((n, 2))
        x[n // 3: n // 2] *= 1e-4
        x[n // 2:] *= 0.05
        return x.astype(np.float32)
    if kind == "bass_treble":  # the K-weighting's two ends
        return np.stack([0.4 * np.sin(2 * np.pi * 40 * t), 0.2 * np.sin(2 * np.pi * 9000 * t)], 1).astype(np.float32)
    if kind == "five_channel":
        return (0.1 * rng.standard_normal((n, 5)) * np.array([1, 1, 0.7, 0.5, 0.5])).astype(np.float32)
    raise AssertionError(kind)


@pytest.mark.parametrize("sr", [44100, 48000])
@pytest.mark.parametrize("kind", ["music", "noise", "sine_mono", "gated", "bass_treble", "five_channel"])
def test_integrated_loudness_matches_pyloudnorm(kind, sr):
    x = _material(kind, sr)
    got = _measure(x, sr)
    ref = pyloudnorm.Meter(sr).integrated_loudness(x.astype(np.float64))
    assert abs(got["integrated_lufs"] - ref) <= 0.1
    assert got["replaygain_track_gain_db"] == pytest.approx(-18.0 - got["integrated_lufs"], abs=0.01)


@pytest.mark.parametrize("kind", ["music", "noise", "bass_treble", "intersample"])
def test_true_peak_within_0_2_db(kind):
    sr = 44100
    if kind == "intersample":  # fs/4 at 45 degrees: samples at 0.707, true peak 1.0 (+3 dB)
        t = np.arange(sr * 2)
        x = np.stack([np.sin(np.pi / 2 * t + np.pi / 4)] * 2, 1).astype(np.float32) * 0.5
    else:
        x = _material(kind, sr, 6.0)
    got = _measure(x, sr)
    ref = _true_peak_reference(x)
    assert abs(20 * np.log10(got["true_peak"] / ref)) <= 0.2
    assert got["sample_peak"] == pytest.approx(float(np.abs(x).max()), abs=2e-6)
    assert got["true_peak"] >= got["sample_peak"] * 0.999


def test_block_size_does_not_change_the_result():
    x = _material("music", 44100, 8.0)
    a, b = _measure(x, 44100, 65536), _measure(x, 44100, 1000)
    assert a["integrated_lufs"] == pytest.approx(b["integrated_lufs"], abs=1e-3)
    assert a["true_peak"] == pytest.approx(b["true_peak"], rel=1e-6)


def test_loudness_range_of_the_tech_3342_two_level_signal():
    # EBU Tech 3342 test case: 20 s at -20 dBFS then 20 s at -30 dBFS, 1 kHz: LRA = 10 LU
    sr = 48000
    t = np.arange(20 * sr) / sr
    tone = np.sin(2 * np.pi * 1000 * t)
    x = np.concatenate([tone * 10 ** (-20 / 20), tone * 10 ** (-30 / 20)])
    got = _measure(np.stack([x, x], 1).astype(np.float32), sr)
    assert got["loudness_range_lu"] == pytest.approx(10.0, abs=1.0)


def test_silence_has_no_loudness():
    got = _measure(np.zeros((44100 * 2, 2), np.float32), 44100)
    assert got["integrated_lufs"] is None and got["replaygain_track_gain_db"] == 0.0


def test_album_gain_from_histograms_matches_the_union_of_blocks():
    sr = 44100
    tracks = [render(0, "major", 120, 8, seed=1, sr=sr) * 0.3,
              _material("noise", sr, 6.0), _material("gated", sr, 8.0)]
    results = [_measure(x, sr) for x in tracks]
    album = album_gain(results)
    # reference: gating over the union of each track's own blocks
    meter = pyloudnorm.Meter(sr)
    blocks = []
    for x in tracks:
        meter.integrated_loudness(x.astype(np.float64))
        blocks.extend(meter.blockwise_loudness)
    levels = np.array(blocks)
    levels = levels[levels >= -70]
    energy = 10 ** ((levels + 0.691) / 10)
    rel = -0.691 + 10 * np.log10(energy.mean()) - 10
    ref = -0.691 + 10 * np.log10(energy[levels > rel].mean())
    assert abs(album["album_lufs"] - ref) <= 0.1
    assert album["replaygain_album_gain_db"] == pytest.approx(-18 - album["album_lufs"], abs=0.01)
    assert album["replaygain_album_peak"] == max(r["true_peak"] for r in results)


def test_true_peak_of_full_band_noise_over_many_seeds():
    """Full-band white noise is the hardest case for a true-peak meter (energy up to Nyquist)."""
    errors = []
    for seed in range(12):
        x = (0.25 * np.random.default_rng(seed).standard_normal((44100 * 3, 2))).astype(np.float32)
        errors.append(abs(20 * np.log10(_measure(x, 44100)["true_peak"] / _true_peak_reference(x))))
    assert max(errors) <= 0.2, errors
