"""Transcodes decoded again: formats, durations, exact offsets, flow, cancellation, limits."""

from __future__ import annotations

import io
import threading

import av
import numpy as np
import pytest
import trio

from sonantica.node.streaming import (
    OffsetPastEnd,
    SourceUnavailable,
    TranscodeBusy,
    TranscodeFailed,
    TranscodeLimiter,
    TranscodeSpec,
    start_transcode,
)
from sonantica.node.streaming import transcode
from sonantica.node.streaming.testing import AUDIO_KINDS, make_audio

FRAME_TOLERANCE = 0.06  # two AAC/MP3 frames at 44.1 kHz, plus encoder priming


async def transcode_bytes(path, spec, **kw) -> bytes:
    stream = await start_transcode(path, spec, **kw)
    try:
        return b"".join([c async for c in stream])
    finally:
        await stream.aclose()


def decode(data: bytes) -> tuple[np.ndarray, int, str]:
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.audio[0]
        frames = [f.to_ndarray() for f in c.decode(s)]
        rate, codec = s.rate, s.codec_context.name
    mono = [f[0] for f in frames]  # first channel (or the interleaved row of packed formats)
    return np.concatenate(mono) if mono else np.zeros(0), rate, codec


def burst_signal(seconds: float, at: float, rate: int = 44100) -> np.ndarray:
    x = np.zeros((int(seconds * rate), 2), dtype=np.float32)
    i = int(at * rate)
    x[i : i + rate // 10] = 0.5 * np.sin(np.arange(rate // 10) * 2 * np.pi * 1000 / rate)[:, None]
    return x


def onset(x: np.ndarray, rate: int) -> float:
    return int(np.argmax(np.abs(x) > 0.1)) / rate


@pytest.mark.parametrize("kind", sorted(AUDIO_KINDS))
async def test_every_input_kind_to_opus(tmp_path, kind):
    src = make_audio(tmp_path / "in", kind, 1.5)
    pcm, rate, codec = decode(await transcode_bytes(src, TranscodeSpec("opus", 96_000)))
    assert (codec, rate) == ("opus", 48000)
    assert abs(len(pcm) / rate - 1.5) < FRAME_TOLERANCE


@pytest.mark.parametrize(
    "fmt,codec,container",
    [("opus", "opus", "ogg"), ("aac", "aac", "aac"), ("m4a", "aac", "mov,mp4,m4a,3gp,3g2,mj2"), ("mp3", "mp3float", "mp3")],
)
async def test_each_output_format_duration_and_offset(tmp_path, fmt, codec, container):
    src = make_audio(tmp_path / "in", "flac16", 3.0, data=burst_signal(3.0, at=2.0))
    data = await transcode_bytes(src, TranscodeSpec(fmt, 128_000, offset=0.75))
    with av.open(io.BytesIO(data)) as c:
        assert c.format.name == container
    pcm, rate, got_codec = decode(data)
    assert got_codec == codec
    assert abs(len(pcm) / rate - 2.25) < FRAME_TOLERANCE
    assert abs(onset(pcm, rate) - 1.25) < FRAME_TOLERANCE


async def test_offset_is_sample_exact_for_opus(tmp_path):
    src = make_audio(tmp_path / "in", "flac16", 3.0, data=burst_signal(3.0, at=1.5))
    for offset in (0.0, 0.1234, 1.0, 1.49):
        pcm, rate, _ = decode(await transcode_bytes(src, TranscodeSpec("opus", 128_000, offset=offset)))
        assert abs(onset(pcm, rate) - (1.5 - offset)) < 0.003, offset


async def test_mono_and_high_rate_inputs(tmp_path):
    src = make_audio(tmp_path / "in", "flac24", 1.0, rate=96000, channels=1)
    data = await transcode_bytes(src, TranscodeSpec("mp3", 128_000))
    with av.open(io.BytesIO(data)) as c:
        s = c.streams.audio[0]
        assert (s.rate, s.codec_context.channels) == (48000, 1)


async def test_offset_at_or_past_the_end_is_refused_before_any_byte(tmp_path):
    src = make_audio(tmp_path / "in", "flac16", 1.5)
    limiter = TranscodeLimiter(1)
    for offset in (1.5, 2.0, 100.0):
        with pytest.raises(OffsetPastEnd) as info:
            await start_transcode(src, TranscodeSpec("opus", 64_000, offset=offset), limiter=limiter)
        assert info.value.offset == offset and "past the end" in str(info.value) and "1.500 s" in str(info.value)
    assert limiter.in_use == 0
    pcm, rate, _ = decode(await transcode_bytes(src, TranscodeSpec("opus", 64_000, offset=1.49)))
    assert abs(len(pcm) / rate - 0.01) < 0.002  # the last 10 ms still play


async def test_a_seek_the_demuxer_refuses_falls_back_to_decoding_from_further_back(tmp_path, monkeypatch):
    # libavformat cannot seek this FLAC (no seek table) 0.2 s before its end; without pre-roll the seek
    # lands exactly there
    monkeypatch.setattr(transcode, "PREROLL", 0.0)
    src = make_audio(tmp_path / "in", "flac16", 3.0, data=burst_signal(3.0, at=2.85))
    for offset in (2.8, 2.85):
        pcm, rate, _ = decode(await transcode_bytes(src, TranscodeSpec("opus", 128_000, offset=offset)))
        assert abs(len(pcm) / rate - (3.0 - offset)) < 0.003, offset
        assert abs(onset(pcm, rate) - (2.85 - offset)) < 0.003, offset


@pytest.mark.parametrize("kind", ["mp3", "aac", "ogg", "opus"])
async def test_lossy_sources_start_at_the_offset_with_sound(tmp_path, kind):
    """After a seek an MP3 decoder answers silence for ~8 frames, and AAC frames overlap: pre-roll hides both."""
    rate = 48000 if kind == "opus" else 44100
    src = make_audio(tmp_path / "in", kind, 3.0, rate=rate, data=burst_signal(3.0, at=1.35, rate=rate))
    pcm, out_rate, _ = decode(await transcode_bytes(src, TranscodeSpec("opus", 128_000, offset=1.3)))
    assert abs(onset(pcm, out_rate) - 0.05) < 0.005
    assert np.abs(pcm[int(0.06 * out_rate) : int(0.14 * out_rate)]).max() > 0.3


def test_spec_validation():
    for bad in [("flac", 128_000, 0), ("opus", 1_000, 0), ("mp3", 999_000, 0), ("opus", 64_000, -1), ("opus", 64_000, float("nan"))]:
        with pytest.raises(ValueError):
            TranscodeSpec(*bad)
    assert TranscodeSpec("opus", 128_000).mime == "audio/ogg; codecs=opus"
    assert TranscodeSpec("aac", 128_000).mime == "audio/aac"


async def test_output_flows_before_the_transcode_ends_and_backpressure_holds(tmp_path):
    src = make_audio(tmp_path / "long", "flac16", 60.0)
    stream = await start_transcode(src, TranscodeSpec("opus", 128_000))
    try:
        first = await stream.__anext__()
        assert first.startswith(b"OggS")
        assert stream.worker_running
        await trio.sleep(0.3)  # a stalled client: the worker must wait, not run ahead
        assert stream.worker_running
        rest = b"".join([c async for c in stream])
        assert len(rest) > 500_000 and stream.completed
    finally:
        await stream.aclose()


def transcode_threads() -> int:
    return sum(t.name.startswith("transcode ") for t in threading.enumerate())


async def test_aclose_stops_the_worker_thread(tmp_path):
    src = make_audio(tmp_path / "long", "flac16", 60.0)
    limiter = TranscodeLimiter(1)
    stream = await start_transcode(src, TranscodeSpec("mp3", 128_000), limiter=limiter)
    await stream.__anext__()
    assert stream.worker_running and limiter.in_use == 1
    with trio.fail_after(1):
        await stream.aclose()
    assert not stream.worker_running and not stream.completed and stream.error is None
    assert limiter.in_use == 0
    await trio.sleep(0.05)
    assert transcode_threads() == 0


async def test_cancelled_consumer_stops_the_worker(tmp_path):
    src = make_audio(tmp_path / "long", "flac16", 60.0)
    stream = await start_transcode(src, TranscodeSpec("opus", 128_000))
    with trio.move_on_after(0.05):
        try:
            async for _ in stream:
                await trio.sleep(0.01)
        finally:
            with trio.CancelScope() as cs:
                cs.cancel()  # closing inside an already cancelled scope, as a server does
                await stream.aclose()
    await stream.wait_worker_done()
    assert not stream.completed


async def test_limiter_refuses_past_the_limit_and_frees_on_close(tmp_path):
    src = make_audio(tmp_path / "long", "flac16", 30.0)
    limiter = TranscodeLimiter(1)
    first = await start_transcode(src, TranscodeSpec("opus", 64_000), limiter=limiter)
    with pytest.raises(TranscodeBusy) as info:
        await start_transcode(src, TranscodeSpec("opus", 64_000), limiter=limiter)
    assert info.value.limit == 1 and "busy" in str(info.value)
    await first.aclose()
    second = await start_transcode(src, TranscodeSpec("opus", 64_000), limiter=limiter)
    await second.aclose()
    assert limiter.in_use == 0
    with pytest.raises(ValueError):
        TranscodeLimiter(0)


async def test_bad_sources(tmp_path):
    limiter = TranscodeLimiter(1)
    junk = tmp_path / "junk.flac"
    junk.write_bytes(b"not audio at all" * 100)
    with pytest.raises(TranscodeFailed):
        await start_transcode(junk, TranscodeSpec("opus", 64_000), limiter=limiter)
    with pytest.raises(SourceUnavailable):
        await start_transcode(tmp_path / "missing.flac", TranscodeSpec("opus", 64_000), limiter=limiter)
    assert limiter.in_use == 0
