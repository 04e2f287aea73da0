"""Analysis throughput: prints ONE JSON line.

x real time per core for the full feature set and per feature (each run
alone, so it includes its own decode), the decode floor, on a few minutes
of rendered music written as 44.1 kHz stereo FLAC in a temp dir.

TODO(workers): streaming chunk latency p50/p99 idle vs under full analysis
load belongs here once workers exist; ``streaming_latency()`` is the hook
and its keys are reported as null until then.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

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


def streaming_latency() -> dict:
    """Hook for whoever wires the workers: p50/p99 chunk latency, idle and loaded."""
    return {"stream_p50_idle_ms": None, "stream_p99_idle_ms": None,
            "stream_p50_loaded_ms": None, "stream_p99_loaded_ms": None,
            "stream_latency_todo": "measure once analysis workers exist"}


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
