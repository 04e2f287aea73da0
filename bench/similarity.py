"""Sonic similarity quality and speed: prints ONE JSON line.

Corpus: ``BENCH_PIECES`` pieces of ``BENCH_PIECE_SECONDS`` in each family of
tests/analysis/families.py (instrument colour, tempo, key, loudness), each
written as FLAC, MP3 and Opus, analysed by the real engine (one decode, all
features, as the workers do).

- ``family_precision_at_10``: the mean fraction of each track's 10 nearest
  neighbours in its own family (goal >= 0.8; random = 1 / families);
- ``same_recording_rank``: the rank of the same piece in another encoding
  among a track's neighbours (mean and worst; goal: 1);
- ``query_p50_ms`` / ``query_p99_ms`` at ``BENCH_VECTORS`` vectors (real
  vectors of the corpus jittered to fill the library), for
  getSonicSimilarTracks (count 10) and findSonicPath (count 25; goal p99 <= 50 ms), wall
  time and the querying thread's CPU time (``*_cpu_p99_ms``: on a busy machine the wall
  time measures the load; ``load_avg_1m`` says how busy it was);
- ``index_build_s``: loading the index from those vectors (done once per change).
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from sonantica.node.analysis.engine import analyse_file  # noqa: E402
from sonantica.node.analysis.similarity import SonicIndex  # noqa: E402
from tests.analysis.encode import write_av, write_flac, write_mp3  # noqa: E402
from tests.analysis.families import FAMILIES, render_piece  # noqa: E402

PIECES = int(os.environ.get("BENCH_PIECES", 5))
SECONDS = float(os.environ.get("BENCH_PIECE_SECONDS", 20))
VECTORS = int(os.environ.get("BENCH_VECTORS", 100_000))
QUERIES = int(os.environ.get("BENCH_QUERIES", 300))
ENCODINGS = (("flac", write_flac), ("mp3", write_mp3), ("opus", write_av))


def corpus(root: str, pieces: int = PIECES, seconds: float = SECONDS) -> tuple[list[str], np.ndarray, list[int], list[tuple]]:
    """(ids, vectors, family of each, recording of each) of the analysed corpus."""
    ids, vectors, families, recordings = [], [], [], []
    for f, family in enumerate(FAMILIES):
        for piece in range(pieces):
            audio = render_piece(family, seconds, seed=1000 * f + piece)
            for name, write in ENCODINGS:
                path = write(os.path.join(root, f"{f}-{piece}.{name}"), audio, 44100)
                ids.append(f"{f}-{piece}-{name}")
                vectors.append(analyse_file(path, {"sonic"})["sonic"]["vector"])
                families.append(f)
                recordings.append((f, piece))
    return ids, np.array(vectors, np.float32), families, recordings


def quality(ids: list[str], vectors: np.ndarray, families: list[int], recordings: list[tuple]) -> dict:
    """Family precision at 10 and the rank of the same recording in another encoding."""
    index = SonicIndex(ids, vectors)
    row = {t: i for i, t in enumerate(ids)}
    precision, ranks = [], []
    for i, track_id in enumerate(ids):
        ranked = index.similar(track_id, len(ids))
        precision.append(np.mean([families[row[m.track_id]] == families[i] for m in ranked[:10]]))
        ranks.append(next(k for k, m in enumerate(ranked, 1) if recordings[row[m.track_id]] == recordings[i]))
    return {"family_precision_at_10": round(float(np.mean(precision)), 3),
            "random_precision": round(1 / len(FAMILIES), 3),
            "same_recording_rank_mean": round(float(np.mean(ranks)), 2), "same_recording_rank_worst": int(max(ranks))}


def latency(vectors: np.ndarray, n: int = VECTORS, queries: int = QUERIES) -> dict:
    rng = np.random.default_rng(7)
    spread = vectors.std(axis=0) * 0.5
    big = vectors[rng.integers(len(vectors), size=n)] + rng.standard_normal((n, vectors.shape[1])) * spread
    ids = [f"tr-{i:06d}" for i in range(n)]
    t0 = time.perf_counter()
    index = SonicIndex(ids, big.astype(np.float32))
    build = time.perf_counter() - t0
    similar, path, similar_cpu, path_cpu = [], [], [], []
    for q in rng.integers(n, size=queries):
        t0, c0 = time.perf_counter(), time.thread_time()
        index.similar(ids[q], 10)
        similar.append(time.perf_counter() - t0)
        similar_cpu.append(time.thread_time() - c0)
    for a, b in rng.integers(n, size=(max(queries // 3, 1), 2)):
        t0, c0 = time.perf_counter(), time.thread_time()
        index.path(ids[a], ids[b], 25)
        path.append(time.perf_counter() - t0)
        path_cpu.append(time.thread_time() - c0)
    ms = lambda xs, q: round(float(np.percentile(np.array(xs) * 1000, q)), 2)  # noqa: E731
    return {"vectors": n, "index_build_s": round(build, 3), "index_mb": round(index.z.nbytes / 2**20, 1),
            "similar_p50_ms": ms(similar, 50), "similar_p99_ms": ms(similar, 99),
            "path_p50_ms": ms(path, 50), "path_p99_ms": ms(path, 99),
            # CPU time of the querying thread: what a query costs, whatever else the machine runs
            "similar_cpu_p99_ms": ms(similar_cpu, 99), "path_cpu_p99_ms": ms(path_cpu, 99),
            "load_avg_1m": round(os.getloadavg()[0], 1)}


def main() -> None:
    with tempfile.TemporaryDirectory() as root:
        t0 = time.perf_counter()
        ids, vectors, families, recordings = corpus(root)
        built = time.perf_counter() - t0
    result = {"bench": "similarity", "families": len(FAMILIES), "tracks": len(ids),
              "encodings": [name for name, _ in ENCODINGS], "piece_seconds": SECONDS,
              "corpus_s": round(built, 1), **quality(ids, vectors, families, recordings), **latency(vectors),
              "target_family_precision": 0.8, "target_query_p99_ms": 50}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
