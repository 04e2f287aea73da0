"""Streaming benchmark: prints ONE JSON line.

    python bench/stream.py [--quick]

Measures, over loopback HTTP against a server in a separate process:
time to first byte (p50/p99) for originals and live transcodes, single-stream
throughput, the number of concurrent real-time FLAC streams held without
underrun, and transcode speed (× real time, in-process, one core, median of 3).

The server is built by ``start_server`` alone (today the tiny app of
``sonantica.node.streaming.testing``; swap in the real node app there).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import trio

from sonantica.node.streaming import TranscodeLimiter, TranscodeSpec, start_transcode
from sonantica.node.streaming.testing import build_app, make_audio, serve_app

PREBUFFER_S = 1.0  # a player starts after 1 s of audio (or gives up after 2 s)
READ_AHEAD_S = 10.0  # and keeps at most 10 s buffered, like a browser


# --- the server -------------------------------------------------------------


def start_server(root: Path) -> tuple[str, subprocess.Popen]:
    """Start the server process serving every file in ``root``; returns (url, process)."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(root)], stdout=subprocess.PIPE, text=True
    )
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise RuntimeError(f"server did not start: {url!r}")
    return url, proc


def _serve_forever(root: Path) -> None:
    files = {p.name: p for p in root.iterdir() if p.is_file()}
    app = build_app(files, limiter=TranscodeLimiter(64), cache=None)

    async def main():
        async with trio.open_nursery() as nursery:
            url = await nursery.start(serve_app, app)
            print(url, flush=True)

    trio.run(main)


# --- measurements -----------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def ttfb(client: httpx.AsyncClient, path: str, n: int, params=None, headers_fn=None) -> list[float]:
    out = []
    for _ in range(n):
        headers = headers_fn() if headers_fn else {}
        t0 = time.perf_counter()
        async with client.stream("GET", path, params=params() if callable(params) else params, headers=headers) as r:
            async for chunk in r.aiter_raw():
                if chunk:
                    out.append((time.perf_counter() - t0) * 1000)
                    break
    return out


async def throughput(client: httpx.AsyncClient, path: str) -> float:
    t0 = time.perf_counter()
    n = 0
    async with client.stream("GET", path) as r:
        async for chunk in r.aiter_raw(1 << 20):
            n += len(chunk)
    return n / (time.perf_counter() - t0) / 1e6


async def player(url: str, path: str, byte_rate: float, play_s: float, result: list) -> None:
    """One real-time listener; appends True if it ever ran dry."""
    underrun = False
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        t0 = time.perf_counter()
        received, t_play = 0, None
        async with client.stream("GET", path) as r:
            async for chunk in r.aiter_raw(64 * 1024):
                now = time.perf_counter()
                if t_play is None and (received >= PREBUFFER_S * byte_rate or now - t0 > 2 * PREBUFFER_S):
                    t_play = now
                if t_play is not None:
                    if received < (now - t_play) * byte_rate:
                        underrun = True
                        break
                    if now - t_play > play_s:
                        break
                received += len(chunk)
                if t_play is not None:
                    ahead = received / byte_rate - (now - t_play)
                    if ahead > READ_AHEAD_S:
                        await trio.sleep(ahead - READ_AHEAD_S)
    result.append(underrun)


async def concurrent_streams(url: str, path: str, byte_rate: float, levels: list[int], play_s: float) -> int:
    held = 0
    for n in levels:
        result: list[bool] = []
        async with trio.open_nursery() as nursery:
            for _ in range(n):
                nursery.start_soon(player, url, path, byte_rate, play_s, result)
        if any(result) or len(result) < n:
            break
        held = n
    return held


async def transcode_speed(src: Path, seconds: float, fmt: str) -> float:
    t0 = time.perf_counter()
    stream = await start_transcode(src, TranscodeSpec(fmt, 128_000))
    async for _ in stream:
        pass
    await stream.aclose()
    return seconds / (time.perf_counter() - t0)


async def run(quick: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        song = make_audio(root / "song", "flac16", 60.0)
        big = make_audio(root / "big", "wav", 60.0 if quick else 300.0)
        byte_rate = song.stat().st_size / 60.0
        # median of 3 runs: the reference machine is shared, single runs are noisy
        speed = {
            fmt: round(statistics.median([await transcode_speed(song, 60.0, fmt) for _ in range(3)]), 1)
            for fmt in ("opus", "aac", "mp3")
        }
        url, proc = start_server(root)
        try:
            size = song.stat().st_size
            rng = random.Random(0)
            async with httpx.AsyncClient(base_url=url, timeout=30) as client:
                await ttfb(client, "/original/song.flac", 5)  # warm-up
                orig = await ttfb(
                    client,
                    "/original/song.flac",
                    100 if quick else 300,
                    headers_fn=lambda: {"Range": f"bytes={rng.randrange(size)}-"},
                )
                trans = await ttfb(
                    client,
                    "/transcode/song.flac",
                    10 if quick else 40,
                    params=lambda: {"format": "opus", "bitrate": 128000, "offset": round(rng.uniform(0, 50), 2)},
                )
                mbps = await throughput(client, "/original/big.wav")
            levels = [25, 50] if quick else [50, 100, 200, 300, 400]
            held = await concurrent_streams(url, "/original/song.flac", byte_rate, levels, 3.0 if quick else 10.0)
        finally:
            proc.terminate()
            proc.wait(10)
    return {
        "bench": "stream",
        "quick": quick,
        "cpus": os.cpu_count(),
        "ttfb_original_ms": {"p50": round(pct(orig, 50), 2), "p99": round(pct(orig, 99), 2), "n": len(orig)},
        "ttfb_transcode_ms": {"p50": round(pct(trans, 50), 2), "p99": round(pct(trans, 99), 2), "n": len(trans)},
        "single_stream_MBps": round(mbps, 1),
        "flac_stream_kbps": round(byte_rate * 8 / 1000),
        "concurrent_realtime_flac_streams": held,
        "concurrent_levels_tried": levels,
        "transcode_x_realtime": speed,
        "mean_ttfb_original_ms": round(statistics.fmean(orig), 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        _serve_forever(args.serve)
        return
    print(json.dumps(trio.run(run, args.quick)))


if __name__ == "__main__":
    main()
