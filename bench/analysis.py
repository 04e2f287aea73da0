"""Analysis throughput: prints ONE JSON line.

x real time per core for the full feature set and per feature (each run
alone, so it includes its own decode), the decode floor, on a few minutes
of rendered music written as 44.1 kHz stereo FLAC in a temp dir.

Streaming chunk latency (``streaming_latency()``): a real node on loopback
(tests/support/node.py) serves one FLAC; a client reads it as a player
buffers, 64 KiB Range requests one after the other, and the latency of each
(request sent to last byte received) is recorded. Idle: half the requests before
any load, half after the queue is empty again (so drift hits both phases);
loaded: while the node's analysis workers (default count: cores - 1) work
through ``BENCH_LOAD_TRACKS`` one-minute tracks added and scanned meanwhile. Target: p99 loaded <= 1.2x p99 idle.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from sonantica.node.analysis.decode import open_audio  # noqa: E402
from sonantica.node.analysis.engine import analyse_file  # noqa: E402
from sonantica.node.analysis.features import FEATURES  # noqa: E402
from tests.analysis.music import render  # noqa: E402

SECONDS = float(os.environ.get("BENCH_SECONDS", 180))
SR = 44100


def _best(fn, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()  # CPU time of this process: "per core"
        fn()
        best = min(best, time.process_time() - t0)
    return best


def _decode_only(path):
    with open_audio(path) as stream:
        for _ in stream.blocks():
            pass


REQUESTS = int(os.environ.get("BENCH_STREAM_REQUESTS", 2000))
LOAD_TRACKS = int(os.environ.get("BENCH_LOAD_TRACKS", 24))
CHUNK = 64 * 1024


def _pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(values) * 1000, q)), 2)


async def _chunk_latencies(client, track_id: str, size: int, n: int) -> list[float]:
    import trio

    out, offset = [], 0
    url = f"/api/v1/tracks/{track_id}/stream"
    for _ in range(n):
        end = min(offset + CHUNK, size) - 1
        t0 = trio.current_time()
        r = await client.get(url, params={"format": "raw"}, headers={"Range": f"bytes={offset}-{end}"})
        assert r.status_code == 206 and len(r.content) == end - offset + 1, r.status_code
        out.append(trio.current_time() - t0)
        offset = end + 1 if end + 1 < size else 0
    return out


async def _measure(root: str) -> dict:
    import trio

    from tests.support.audio import make_track
    from tests.support.node import init_node, running_node

    music = os.path.join(root, "music")
    stream = make_track(os.path.join(music, "stream", "play.flac"), tags={"title": "play"}, seconds=120, seed=99)
    data = init_node(Path(root) / "node", Path(music))
    async with running_node(data) as node:
        client = await node.login()
        try:
            tracks = (await client.get("/api/v1/tracks", params={"limit": 500})).json()["items"]
            play = next(t for t in tracks if t["title"] == "play")
            size = os.path.getsize(stream)
            await _chunk_latencies(client, play["id"], size, 20)  # warm up: connection, page cache
            with trio.fail_after(60):  # the stream track itself is analysed first
                while (p := (await client.get("/api/v1/analysis")).json())["pending"] or p["running"]:
                    await trio.sleep(0.05)
            idle = await _chunk_latencies(client, play["id"], size, REQUESTS // 2)
            for i in range(LOAD_TRACKS):
                make_track(os.path.join(music, "load", f"{i}.flac"), tags={"title": f"load {i}"}, seconds=60, seed=i)
            assert (await client.post("/api/v1/scan", json={})).status_code == 202
            with trio.fail_after(60):
                while not (p := (await client.get("/api/v1/analysis")).json())["active"]:
                    await trio.sleep(0.02)
            loaded = await _chunk_latencies(client, play["id"], size, REQUESTS)
            p = (await client.get("/api/v1/analysis")).json()
            still_loaded = bool(p["active"])
            with trio.fail_after(300):
                while (p := (await client.get("/api/v1/analysis")).json())["pending"] or p["running"]:
                    await trio.sleep(0.2)
            idle += await _chunk_latencies(client, play["id"], size, REQUESTS - REQUESTS // 2)
        finally:
            await client.aclose()
    return {
        "stream_p50_idle_ms": _pct(idle, 50), "stream_p99_idle_ms": _pct(idle, 99),
        "stream_p50_loaded_ms": _pct(loaded, 50), "stream_p99_loaded_ms": _pct(loaded, 99),
        "stream_p99_loaded_over_idle": round(_pct(loaded, 99) / max(_pct(idle, 99), 1e-9), 2),
        "stream_chunk_bytes": CHUNK, "stream_requests_per_phase": REQUESTS,
        "analysis_workers": p["workers"], "load_lasted_whole_phase": still_loaded,
        "target_stream_p99_loaded_over_idle": 1.2,
    }


def streaming_latency() -> dict:
    """Stream chunk latency p50/p99 on a real node, idle and under full analysis load."""
    import logging

    import trio

    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as root:
        return trio.run(_measure, root)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        piece = 60.0
        path = os.path.join(tmp, "bench.flac")
        with sf.SoundFile(path, "w", SR, 2, format="FLAC", subtype="PCM_16") as out:
            for i in range(int(np.ceil(SECONDS / piece))):
                out.write(render(i % 12, ("major", "minor")[i % 2], 90 + 11 * i, min(piece, SECONDS - i * piece), seed=i))
        duration = sf.info(path).frames / SR
        decode = _best(lambda: _decode_only(path))
        full = _best(lambda: analyse_file(path))
        per_feature = {name: round(duration / _best(lambda n=name: analyse_file(path, {n}), 2), 1) for name in FEATURES}
        result = {
            "bench": "analysis",
            "audio_seconds": round(duration, 1),
            "format": "flac 44.1k stereo 16-bit",
            "all_features_x_realtime_per_core": round(duration / full, 1),
            "decode_floor_x_realtime": round(duration / decode, 1),
            "per_feature_x_realtime_incl_decode": per_feature,
            "target_all_features_x_realtime": 100,
            **streaming_latency(),
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
