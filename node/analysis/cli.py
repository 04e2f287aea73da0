"""``sonantica analyze`` and the analysis lines of ``sonantica status`` (see ``cli.SUBSYSTEM_CLIS``).

``analyze`` queues the tracks whose results are missing or outdated (all of
them with ``--force``), then:

- when the node is serving, waits while the node's own workers do the work
  (the CLI starts none: the queue is shared through the database);
- otherwise runs the workers here, in the foreground, until nothing is ready.

Either way the job leases keep two processes from analysing the same track.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from ..config import DataDir
from ..store import analysis as analysis_store
from ..store import jobs
from ..store.db import Store

POLL_S = 0.5
_WHERE = {"here": "here", "node": "by the serving node", "nothing to do": "nothing to do"}


def add_parsers(subparsers, commands: dict) -> None:
    s = subparsers.add_parser("analyze", help="analyse the library: waveform, loudness/ReplayGain, BPM, key, fingerprint")
    s.add_argument("--force", action="store_true", help="recompute every feature of every track")
    s.add_argument("--json", action="store_true", help="print one JSON summary line")
    commands["analyze"] = cmd_analyze


def cmd_analyze(data: DataDir, args: argparse.Namespace) -> int:
    import trio

    from .runner import worker_count

    config = data.load_config()
    show = not args.json and sys.stderr.isatty()
    with Store.open(data.db_path) as store:
        result = trio.run(analyze, data, store, worker_count(config.analysis_workers), args.force, show)
    if args.json:
        print(json.dumps(result))
        return 0
    line = (f"{result['analysed']} of {result['tracks']} tracks analysed ({result['done_now']} just now, "
            f"{_WHERE[result['ran']]}, {result['seconds']:.1f} s)")
    if result["failed"]:
        line += f"; {result['failed']} failed (see `sonantica status`)"
    if result["waiting"]:
        line += f"; {result['waiting']} waiting for a retry"
    print(line)
    return 0


async def analyze(data: DataDir, store: Store, workers: int, force: bool, show: bool = False) -> dict:
    """Queue, then run here or wait for the serving node; the summary as a dict."""
    import trio

    from ..serving import running_pid
    from .runner import Runner
    from .service import SETTINGS
    from .versions import KIND, current_versions

    t0, started = time.monotonic(), time.time()
    runner = Runner(store, workers=workers, settings=SETTINGS, leaves_dir=str(data.file_leaves_dir))
    queued = await runner.sweep(force=force)
    ran = "nothing to do"
    async with trio.open_nursery() as nursery:
        if show:
            nursery.start_soon(_show_progress, store)
        while await store.read(jobs.ready, KIND, time.time()):
            if running_pid(data) is None:
                ran = "here"
                await runner.run(until_idle=True)
            else:
                ran = "node" if ran != "here" else ran
                await trio.sleep(POLL_S)
        nursery.cancel_scope.cancel()
    counts, prog, done_now = await store.read(lambda db: (
        jobs.counts(db, KIND), analysis_store.progress(db, current_versions()), jobs.done_since(db, KIND, started)))
    return {"queued": queued, "done_now": done_now, "analysed": prog["analysed"], "tracks": prog["tracks"],
            "failed": counts["failed"], "waiting": counts["pending"], "ran": ran,
            "seconds": round(time.monotonic() - t0, 2)}


async def _show_progress(store: Store) -> None:
    import trio
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from .versions import current_versions

    versions = current_versions()
    with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                  TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task("analysing", total=None)
        while True:
            prog = await store.read(analysis_store.progress, versions)
            bar.update(task, completed=prog["analysed"], total=prog["tracks"])
            await trio.sleep(POLL_S)


def status(store: Store) -> dict:
    from .versions import KIND, current_versions

    versions = current_versions()

    def read(db):
        return {**analysis_store.progress(db, versions), **jobs.counts(db, KIND), "failures": jobs.failures(db, KIND, 20)}

    return {"analysis": store.read_sync(read)}


def print_status(status: dict) -> None:
    a = status.get("analysis")
    if not a:
        return
    print(f"analysis: {a['analysed']} of {a['tracks']} tracks analysed; jobs: {a['pending']} queued, "
          f"{a['running']} running, {a['failed']} failed")
    for f in a["failures"][:10]:
        what = "failed" if f["state"] == "failed" else "will retry"
        print(f"  {f['target']}: {f['last_error']} ({what} after {f['attempts']} attempts)")
