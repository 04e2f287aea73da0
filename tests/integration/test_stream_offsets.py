"""Starting a stream part-way (native ``offset``, Subsonic ``timeOffset``): audio that starts there, or a clear error.

The sources are chirps: the frequency rises linearly with time, so the
frequency of any window of the decoded output says which instant of the source
it came from, whatever the codec did to the waveform.
"""

from __future__ import annotations

import io

import av
import httpx
import numpy as np
import pytest

from tests.support.audio import write_audio, write_tags
from tests.support.node import init_node, running_node

F0, SLOPE = 200.0, 400.0  # Hz at 0 s, Hz per second
RATE = 44100
SHORT = 3.0  # the "short FLAC"
LONG = 6.0
WINDOW = 2048
# where the output starts, compared with the offset asked: Opus signals its encoder delay; an MP3 or ADTS
# stream written progressively cannot (LAME's 1105 samples of delay, AAC's 1024 of priming: ~25 ms)
START_TOLERANCE = {"opus": 0.01, "mp3": 0.04, "aac": 0.04, "m4a": 0.04}
DURATION_TOLERANCE = 0.07


def chirp(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    x = 0.3 * np.sin(2 * np.pi * (F0 * t + SLOPE * t * t / 2))
    return np.stack([x, 0.8 * x], axis=1).astype(np.float32)


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """The first channel of every decoded frame, and the rate."""
    with av.open(io.BytesIO(data)) as f:
        stream = f.streams.audio[0]
        parts = []
        for frame in f.decode(stream):
            arr = frame.to_ndarray()
            parts.append(arr[0] if frame.format.is_planar else arr[0, :: len(frame.layout.channels)])
        return (np.concatenate(parts) if parts else np.zeros(0)), stream.rate


def source_time(pcm: np.ndarray, rate: int, at: float) -> float:
    """The instant of the source that the output's window starting at ``at`` s reproduces."""
    start = int(at * rate)
    window = pcm[start : start + WINDOW] * np.hanning(WINDOW)
    spectrum = np.abs(np.fft.rfft(window, 8 * WINDOW))
    i = peak = int(np.argmax(spectrum))
    if 0 < i < len(spectrum) - 1:  # parabolic interpolation of the peak
        a, b, c = np.log(spectrum[i - 1 : i + 2] + 1e-12)
        peak = i + 0.5 * (a - c) / (a - 2 * b + c)
    freq = peak * rate / (8 * WINDOW)
    return (freq - F0) / SLOPE - WINDOW / 2 / rate


def check_starts_at(data: bytes, fmt: str, offset: float, length: float, what: str) -> None:
    pcm, rate = decode(data)
    seconds = len(pcm) / rate
    assert abs(seconds - (length - offset)) < DURATION_TOLERANCE, f"{what}: {seconds:.3f} s decoded"
    if length - offset >= 0.15:  # room for a window 0.05 s in
        started = source_time(pcm, rate, 0.05) - 0.05
        assert abs(started - offset) < START_TOLERANCE[fmt], f"{what}: starts at {started:.3f} s of the source"


@pytest.fixture
def data(tmp_path, music):
    for name, fmt, seconds in (("Short", "flac", SHORT), ("Lossy", "mp3", LONG), ("Packed", "m4a", LONG)):
        path = music / f"{name}.{fmt}"
        write_audio(path, fmt, chirp(seconds))
        write_tags(path, fmt, {"title": name, "artist": "Chirp", "album": "Sweeps"})
    return init_node(tmp_path / "data", music)


class Client:
    """The same node through both APIs."""

    def __init__(self, http: httpx.AsyncClient, password: str, tracks: dict) -> None:
        self.http, self.password, self.tracks = http, password, tracks

    @classmethod
    async def of(cls, node) -> Client:
        http = await node.login()
        password = (await http.post("/api/v1/me/subsonic-password")).json()["password"]
        tracks = {t["title"]: t for t in (await http.get("/api/v1/tracks")).json()["items"]}
        return cls(http, password, tracks)

    async def native(self, title: str, fmt: str, offset: float, method: str = "GET") -> httpx.Response:
        params = {"format": fmt, "offset": offset} | ({} if fmt == "raw" else {"bitrate": 128})
        return await self.http.request(method, self.tracks[title]["stream_url"], params=params)

    async def subsonic(self, title: str, fmt: str, offset: float, method: str = "GET") -> httpx.Response:
        params = {"u": "owner", "p": self.password, "v": "1.16.1", "c": "tests", "f": "json",
                  "id": self.tracks[title]["id"], "format": fmt, "timeOffset": offset}
        if fmt != "raw":
            params["maxBitRate"] = 128
        return await self.http.request(method, "/rest/stream", params=params)


@pytest.mark.parametrize("api", ["native", "subsonic"])
async def test_an_offset_inside_the_track_gives_audio_that_starts_there(data, music, api):
    async with running_node(data) as node:
        client = await Client.of(node)
        ask = getattr(client, api)
        for fmt in ("opus", "mp3", "aac", "m4a", "raw"):
            for offset in (0, 0.75, 1.5, 2.5, 2.8, 2.97):
                r = await ask("Short", fmt, offset)
                what = f"{api} {fmt} at {offset} s"
                assert r.status_code == 200 and r.headers["content-type"].startswith("audio/"), what
                if fmt == "raw" and offset == 0:
                    assert r.content == (music / "Short.flac").read_bytes()
                    continue
                # raw from an offset cannot be the original: it is transcoded (Opus by default)
                check_starts_at(r.content, "opus" if fmt == "raw" else fmt, offset, SHORT, what)


async def test_lossy_and_packed_sources_start_at_the_offset(data):
    """MP3 decoders need frames before the offset (bit reservoir); AAC overlaps frames: both are decoded and dropped."""
    async with running_node(data) as node:
        client = await Client.of(node)
        for title in ("Lossy", "Packed"):
            for offset in (0.5, 1.3, 3.77, 5.5):
                r = await client.native(title, "opus", offset)
                assert r.status_code == 200
                check_starts_at(r.content, "opus", offset, LONG, f"{title} at {offset} s")


async def test_an_offset_past_the_end_is_a_clear_error_in_both_apis(data):
    async with running_node(data) as node:
        client = await Client.of(node)
        for fmt in ("opus", "mp3", "raw"):
            for offset in (SHORT, 3.5, 100):
                r = await client.native("Short", fmt, offset)
                assert r.status_code == 416, (fmt, offset, r.status_code, len(r.content))
                error = r.json()["error"]
                assert error["code"] == "offset_past_end" and "past the end" in error["message"]
                assert (await client.native("Short", fmt, offset, "HEAD")).status_code == 416
                r = await client.subsonic("Short", fmt, offset)
                assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
                body = r.json()["subsonic-response"]
                assert body["status"] == "failed" and "past the end" in body["error"]["message"], body


async def test_the_cache_keeps_each_offset_apart(data):
    async with running_node(data) as node:
        client = await Client.of(node)
        seen = []
        for offset in (0, 1.5, 1.5, 0, 2.25, 1.5):
            r = await client.native("Short", "opus", offset)
            seen.append(r.headers["x-transcode-cache"])
            check_starts_at(r.content, "opus", offset, SHORT, f"offset {offset} ({seen[-1]})")
        assert seen == ["miss", "miss", "hit", "hit", "miss", "hit"]
