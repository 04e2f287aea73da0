"""Scan benchmark: one JSON line of figures (DESIGN.md §9).

Generates N small tagged FLAC files (copies of a few seeds with distinct tags,
written by mutagen), then measures the initial scan (tags + DB + FTS, warm page
cache), a rescan with nothing changed, peak RSS of the scanning process and
the bare mutagen tag-read rate on the same files for comparison.

Then the commands as a user runs them, on a 500-file library: ``small_first_scan_s``
(wall time of ``sonantica scan`` on a fresh node, the process's start included),
``status_cpu_s`` and ``scan_uptodate_cpu_s`` (CPU time, user + system, of
``sonantica status`` and of a ``sonantica scan`` that finds nothing to do).
Usage: python bench/scan.py [N]
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mutagen  # noqa: E402
import trio  # noqa: E402
from mutagen.flac import FLAC  # noqa: E402

from sonantica.node.library.scanner import Scanner  # noqa: E402
from sonantica.node.store.db import Store  # noqa: E402
from tests.support.audio import make_track  # noqa: E402


def build(root: Path, n: int) -> list[Path]:
    seeds = [make_track(root / f"seed{i}.flac", "flac", {"title": "x"}, seconds=0.2, seed=i) for i in range(4)]
    paths = []
    for i in range(n):
        d = root / f"Artist {i % 200}" / f"Album {i % 1000}"
        d.mkdir(parents=True, exist_ok=True)
        p = d / f"{i % 12 + 1:02} - Track {i}.flac"
        shutil.copyfile(seeds[i % 4], p)
        f = FLAC(p)
        f.update({"title": f"Track {i}", "artist": [f"Artist {i % 200}", f"Guest {i % 37}"],
                  "album": f"Album {i % 1000}", "albumartist": f"Artist {i % 200}",
                  "tracknumber": f"{i % 12 + 1}/12", "date": str(1970 + i % 50), "genre": ["Rock", f"G{i % 20}"]})
        f.save()
        paths.append(p)
    for s in seeds:
        s.unlink()
    return paths


def run_cli(*args: str) -> tuple[float, float]:
    """(wall s, CPU s) of one ``sonantica`` command in its own process."""
    t = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "sonantica.node.cli", *args], stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, args
    return time.perf_counter() - t, usage.ru_utime + usage.ru_stime


def small_library(tmp: Path, n: int = 500, runs: int = 3) -> dict:
    root = tmp / "small-music"
    build(root, n)
    first, status, uptodate = [], [], []
    for i in range(runs):
        data = str(tmp / f"small-node-{i}")
        run_cli("--data", data, "init", "--music", str(root))
        first.append(run_cli("--data", data, "scan", "--json")[0])
        status.append(run_cli("--data", data, "status")[1])
        uptodate.append(run_cli("--data", data, "scan", "--json")[1])
    return {"small_files": n, "small_first_scan_s": round(min(first), 2),
            "status_cpu_s": round(min(status), 3), "scan_uptodate_cpu_s": round(min(uptodate), 3)}


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "music"
        paths = build(root, n)
        t0 = time.perf_counter()
        for p in paths:
            mutagen.File(p)
        bare = n / (time.perf_counter() - t0)
        store = Store.open(Path(tmp) / "bench.db")
        scanner = Scanner(store, [str(root)], Path(tmp) / "covers", Path(tmp) / "scan.lock")
        t0 = time.perf_counter()
        first = trio.run(scanner.scan)
        initial = n / (time.perf_counter() - t0)
        t0 = time.perf_counter()
        second = trio.run(scanner.scan)
        rescan = n / (time.perf_counter() - t0)
        store.close()
        assert first.added == n and second.unchanged == n, (first, second)
        small = small_library(Path(tmp))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    print(json.dumps({
        "bench": "scan", "files": n, "cpus": os.cpu_count(),
        "initial_files_per_s": round(initial), "rescan_files_per_s": round(rescan),
        "peak_rss_mb": rss, "worker_peak_rss_mb": children,
        "bare_mutagen_files_per_s": round(bare), **small, "load_avg_1m": round(os.getloadavg()[0], 2),
        "targets": {"initial_files_per_s": 3000, "rescan_files_per_s": 50000, "rss_mb_at_100k": 300,
                    "small_first_scan_s": 1.5, "status_cpu_s": 0.3, "scan_uptodate_cpu_s": 0.3},
    }))


if __name__ == "__main__":
    main()
