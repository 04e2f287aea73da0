import os

import numpy as np
import pytest

from sonantica.node.analysis.decode import DecodeError, open_audio
from tests.analysis.encode import write_av, write_flac

SR = 44100


def _signal(seconds=3.0, channels=2):
    rng = np.random.default_rng(0)
    return (0.2 * rng.standard_normal((int(seconds * SR), channels))).astype(np.float32)


def _decode(path, block_frames=4096):
    with open_audio(path, block_frames) as stream:
        blocks = list(stream.blocks())
        return stream, blocks


def test_flac_decodes_in_fixed_blocks_bit_exact(tmp_path):
    x = _signal()
    path = write_flac(tmp_path / "a.flac", x, SR)
    stream, blocks = _decode(path)
    assert (stream.sample_rate, stream.channels, stream.frames, stream.backend) == (SR, 2, len(x), "soundfile")
    assert all(len(b) == 4096 for b in blocks[:-1]) and 0 < len(blocks[-1]) <= 4096
    assert all(b.dtype == np.float32 and b.shape[1] == 2 for b in blocks)
    got = np.concatenate(blocks)
    assert np.allclose(got, np.round(x * 32767) / 32768, atol=1.5 / 32768)


@pytest.mark.parametrize("ext,codec", [("m4a", "aac"), ("opus", "libopus")])
def test_ffmpeg_formats_go_through_pyav(tmp_path, ext, codec):
    x = _signal(2.0)
    path = write_av(tmp_path / f"a.{ext}", x, SR, codec=codec, bit_rate=128000,
                    rate=48000 if codec == "libopus" else SR, fmt="flt" if codec == "libopus" else "fltp")
    stream, blocks = _decode(path)
    assert stream.backend == "pyav" and stream.channels == 2
    total = sum(len(b) for b in blocks)
    assert abs(total / stream.sample_rate - 2.0) < 0.1
    assert all(len(b) == 4096 for b in blocks[:-1])


def test_truncated_flac_raises_decode_error(tmp_path):
    path = write_flac(tmp_path / "a.flac", _signal(), SR)
    data = open(path, "rb").read()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DecodeError) as info:
        _decode(cut)
    assert info.value.path == str(cut) and info.value.reason


@pytest.mark.parametrize("name", ["junk.flac", "junk.m4a", "junk.mp3", "junk.wav"])
def test_garbage_raises_decode_error(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(os.urandom(20000))
    with pytest.raises(DecodeError):
        _decode(path)


def test_corrupt_body_raises_decode_error(tmp_path):
    path = write_flac(tmp_path / "a.flac", _signal(), SR)
    data = bytearray(open(path, "rb").read())
    data[4000:] = os.urandom(len(data) - 4000)
    bad = tmp_path / "bad.flac"
    bad.write_bytes(bytes(data))
    with pytest.raises(DecodeError):
        _decode(bad)


def test_missing_file(tmp_path):
    with pytest.raises(DecodeError, match="no such file"):
        open_audio(tmp_path / "nope.flac")
