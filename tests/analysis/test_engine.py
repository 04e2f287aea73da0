import json

import numpy as np
import pytest

from sonantica.node.analysis.engine import UnknownFeature, analyse_file
from sonantica.node.analysis.decode import DecodeError
from sonantica.node.analysis.features import FEATURES, feature_versions
from sonantica.node.analysis.features.waveform import Waveform, level_for
from tests.analysis.encode import write_flac
from tests.analysis.music import render


@pytest.fixture
def track(tmp_path):
    return write_flac(tmp_path / "t.flac", render(9, "minor", 124, 12, seed=7), 44100)


def test_all_features_from_one_decode(track):
    out = analyse_file(track)
    assert set(out) == set(FEATURES)
    assert {k: v["version"] for k, v in out.items()} == feature_versions()
    assert out["key"]["key"] == "A minor" and out["key"]["camelot"] == "8A"
    assert abs(out["bpm"]["bpm"] - 124) / 124 <= 0.02
    assert -30 < out["loudness"]["integrated_lufs"] < 0
    assert out["fingerprint"]["raw"] and out["fingerprint"]["compressed"]
    json.dumps(out)  # storable as is


def test_subset_and_unknown(track):
    assert set(analyse_file(track, {"bpm", "loudness"})) == {"bpm", "loudness"}
    with pytest.raises(UnknownFeature):
        analyse_file(track, {"tempo"})


def test_decode_errors_propagate(tmp_path):
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"fLaC" + bytes(5000))
    with pytest.raises(DecodeError):
        analyse_file(bad)


def test_waveform_is_audiowaveform_json(track):
    wf = analyse_file(track, {"waveform"})["waveform"]
    frames = 12 * 44100
    for level in wf["levels"]:
        assert set(level) == {"version", "channels", "sample_rate", "samples_per_pixel", "bits", "length", "data"}
        assert level["version"] == 2 and level["channels"] == 1 and level["bits"] == 8
        assert level["length"] == -(-frames // level["samples_per_pixel"])
        assert len(level["data"]) == 2 * level["length"]
        data = np.array(level["data"])
        assert (data[0::2] <= data[1::2]).all() and data.min() >= -128 and data.max() <= 127
    assert level_for(wf, 1000)["samples_per_pixel"] == 2048


def test_waveform_matches_brute_force_for_any_block_size():
    x = (np.random.default_rng(0).uniform(-1, 1, (10000, 2))).astype(np.float32)
    ref = None
    for block in (10000, 333, 512):
        wf = Waveform(44100, 2)
        for i in range(0, len(x), block):
            wf.feed(x[i:i + block])
        got = wf.result()["levels"][0]["data"]
        ref = ref or got
        assert got == ref
    merged_lo, merged_hi = x.min(axis=1), x.max(axis=1)
    assert ref[0] == int(np.floor(merged_lo[:512].min() * 128)) and ref[1] == min(127, int(np.floor(merged_hi[:512].max() * 128)))
