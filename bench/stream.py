"""Streaming benchmark: prints ONE JSON line.

    python bench/stream.py [--quick]

Measures, over loopback HTTP against a server in a separate process:
time to first byte (p50/p99) for originals and live transcodes, single-stream
throughput, the number of concurrent real-time FLAC streams held without
underrun, and transcode speed (× real time, in-process, one core, median of 3).

The server is a real node (``sonantica serve`` code path: the full app with
auth, access checks, store lookups and path confinement), started by
``start_server`` in its own process and called with an API key.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sonantica.node.streaming import TranscodeSpec, start_transcode  # noqa: E402
from sonantica.node.streaming.testing import make_audio  # noqa: E402

AUTH: dict[str, str] = {}  # the API key header, set once the server is up

PREBUFFER_S = 1.0  # a player starts after 1 s of audio (or gives up after 2 s)
READ_AHEAD_S = 10.0  # and keeps at most 10 s buffered, like a browser


# --- the server -------------------------------------------------------------


def start_server(root: Path) -> tuple[str, subprocess.Popen, dict[str, str]]:
    """Start a node serving ``root``; returns (url, process, {file name: stream path})."""
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(root)], stdout=subprocess.PIPE, text=True
    )
    line = proc.stdout.readline().strip()
    try:
        info = json.loads(line)
    except ValueError:
        proc.kill()
        raise RuntimeError(f"server did not start: {line!r}") from None
    AUTH["X-Api-Key"] = info["key"]
    return info["url"], proc, {name: f"/api/v1/tracks/{tid}/stream" for name, tid in info["tracks"].items()}


def _serve_forever(root: Path) -> None:
    from dataclasses import replace

    from sonantica.node.daemon import serve
    from sonantica.node.store import users
    from sonantica.node.store.db import Store
    from tests.support.node import init_node

    music = root
    import contextlib
    import logging

    logging.disable(logging.INFO)
    with contextlib.redirect_stdout(sys.stderr):
        data = init_node(root.parent / "node", music, {"bench": "owner"}, max_transcodes=64, transcode_cache_mb=0,
                         watch=False)
    store = Store.open(data.db_path)
    owner = store.read_sync(users.by_name, "bench")
    _, key = store.write_sync(users.new_api_key, owner["id"], "bench")
    store.close()

    async def main():
        async with trio.open_nursery() as nursery:
            bound = await nursery.start(serve, data, replace(data.load_config(), bind="127.0.0.1:0"))
            url = bound[0]
            async with httpx.AsyncClient(base_url=url, headers={"X-Api-Key": key}) as c:
                while True:
                    scan = (await c.get("/api/v1/scan")).json()
                    if not scan["scanning"] and scan["library"]["tracks"] >= 2:
                        break
                    await trio.sleep(0.1)
                items = (await c.get("/api/v1/tracks")).json()["items"]
            tracks = {t["path"]: t["id"] for t in items}
            print(json.dumps({"url": url, "key": key, "tracks": tracks}), flush=True)

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
    async with httpx.AsyncClient(base_url=url, timeout=30, headers=AUTH) as client:
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
        root = Path(tmp) / "music"
        root.mkdir()
        song = make_audio(root / "song", "flac16", 60.0)
        big = make_audio(root / "big", "wav", 60.0 if quick else 300.0)
        byte_rate = song.stat().st_size / 60.0
        # median of 3 runs: the reference machine is shared, single runs are noisy
        speed = {
            fmt: round(statistics.median([await transcode_speed(song, 60.0, fmt) for _ in range(3)]), 1)
            for fmt in ("opus", "aac", "mp3")
        }
        url, proc, paths = start_server(root)
        song_path, big_path = paths["song.flac"], paths["big.wav"]
        try:
            size = song.stat().st_size
            rng = random.Random(0)
            async with httpx.AsyncClient(base_url=url, timeout=30, headers=AUTH) as client:
                await ttfb(client, song_path, 5, params={"format": "raw"})  # warm-up
                orig = await ttfb(
                    client,
                    song_path,
                    100 if quick else 300,
                    params={"format": "raw"},
                    headers_fn=lambda: {"Range": f"bytes={rng.randrange(size)}-"},
                )
                trans = await ttfb(
                    client,
                    song_path,
                    10 if quick else 40,
                    params=lambda: {"format": "opus", "bitrate": 128, "offset": round(rng.uniform(0, 50), 2)},
                )
                mbps = await throughput(client, big_path + "?format=raw")
            levels = [25, 50] if quick else [50, 100, 200, 300, 400]
            held = await concurrent_streams(url, song_path + "?format=raw", byte_rate, levels, 3.0 if quick else 10.0)
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
