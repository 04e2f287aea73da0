"""The analysis runner: worker processes fed by the persistent job queue.

Theory of operation
-------------------
``Runner.run`` opens one nursery with one *slot* task per worker. A slot
loops: claim a job (``store.jobs.claim``, a lease), plan it (which features
of the track are stale: ``store.analysis.plan``), hand the file to its
worker process, renew the lease while it works, then save every result and
complete the job in one write transaction. A decode error or a crash is a
failed attempt (retried with exponential backoff, then ``failed`` with the
reason); a shutdown gives the job back untouched.

Worker processes (:mod:`.worker`) are fresh interpreters started with
``trio.lowlevel.open_process`` -- spawn semantics, never a fork of this trio
process -- that lower their own CPU and I/O priority. Each slot owns its
process: it starts it on first use, kills it when idle for
``Settings.idle_exit_s`` or when the slot is cancelled, and starts a new one
when it dies. Nothing outlives the nursery.

Playback first: ``busy()`` (streams or transcodes in progress) makes every
slot but the first wait, and the first pause between jobs; see
:mod:`.service` for where the signal comes from.

The node's own process only moves bytes here: decoding, feature maths,
compression and LSH keys all happen in the worker.
"""

from __future__ import annotations

import logging
import os
import pickle
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import trio

from ..errors import NodeError
from ..library.paths import existing_file
from ..store import analysis as analysis_store
from ..store import jobs
from ..store.db import Store
from .versions import KIND, current_versions
from .worker import HEADER, frame

log = logging.getLogger(__name__)



def worker_count(configured: int = 0) -> int:
    """``configured`` when set, else the usable cores minus one, at least one."""
    if configured > 0:
        return configured
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 2
    return max(1, cores - 1)


@dataclass(frozen=True)
class Settings:
    """Timings of the queue; tests inject short ones."""

    lease_s: float = 300.0
    backoff: jobs.Backoff = field(default_factory=jobs.Backoff)
    poll_s: float = 2.0  # how often an idle slot looks for jobs (others may enqueue: `sonantica analyze`)
    sweep_s: float = 900.0  # periodic look for stale tracks, besides the one after every scan
    idle_exit_s: float = 60.0  # an idle worker process is stopped after this
    busy_pause_s: float = 1.0  # while streams play: pause between jobs

    @property
    def renew_s(self) -> float:
        return self.lease_s / 3


class WorkerDied(Exception):
    """The worker process exited or was killed while it held a job."""


class WorkerProcess:
    """One worker process and its pipes; ``request()`` is one job."""

    def __init__(self, proc: trio.Process) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.priority: dict = {}

    @classmethod
    async def start(cls) -> "WorkerProcess":
        env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
        proc = await trio.lowlevel.open_process(
            [sys.executable, "-m", "sonantica.node.analysis.worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        worker = cls(proc)
        try:
            hello = await worker._receive()
        except BaseException:
            await worker.aclose()
            raise
        worker.priority = hello.get("priority", {})
        return worker

    async def request(self, request: dict) -> dict:
        try:
            await self.proc.stdin.send_all(frame(request))
            return await self._receive()
        except (trio.BrokenResourceError, trio.ClosedResourceError):
            raise WorkerDied(await self._exit_reason()) from None

    async def _receive(self) -> dict:
        header = await self._exactly(HEADER.size)
        return pickle.loads(await self._exactly(HEADER.unpack(header)[0]))

    async def _exactly(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            part = await self.proc.stdout.receive_some(min(n - len(buf), 1 << 20))
            if not part:
                raise WorkerDied(await self._exit_reason())
            buf += part
        return bytes(buf)

    async def _exit_reason(self) -> str:
        with trio.move_on_after(2):
            await self.proc.wait()
        code = self.proc.returncode
        if code is None:
            return "its pipe closed"
        if code < 0:
            import signal

            return f"killed by {signal.Signals(-code).name}"
        return f"exit status {code}"

    async def aclose(self) -> None:
        with trio.CancelScope(shield=True):
            if self.proc.returncode is None:
                self.proc.kill()
            await self.proc.wait()
            for stream in (self.proc.stdin, self.proc.stdout):
                await stream.aclose()


class Runner:
    """The workers of one node (or of a foreground `sonantica analyze`)."""

    def __init__(self, store: Store, *, workers: int = 1, settings: Settings = Settings(),
                 publish: Callable[[str, dict], None] | None = None,
                 busy: Callable[[], bool] | None = None, leaves_dir: str | None = None) -> None:
        self.store = store
        self.leaves_dir = leaves_dir  # where the file_id's leaf hashes are kept (federation.leaves)
        self.workers = max(1, workers)
        self.settings = settings
        self.publish = publish or (lambda kind, data: None)
        self.busy = busy or (lambda: False)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.versions = current_versions()
        self.active: dict[int, dict] = {}  # slot -> what it is doing (for status and tests)
        self.pids: dict[int, int] = {}  # slot -> worker pid
        self.finished_jobs = 0
        self._wake = trio.Event()
        self._working = False

    # -- scheduling -----------------------------------------------------------------
    def wake(self) -> None:
        self._wake.set()

    async def sweep(self, force: bool = False) -> int:
        """Queue every track with a stale feature (every track when ``force``); returns how many."""
        now = time.time()
        if force:
            targets = await self.store.read(analysis_store.all_tracks)
        else:
            targets = await self.store.read(analysis_store.stale_tracks, self.versions)

        def write(db):
            analysis_store.prune(db)
            analysis_store.refill_tracks(db)
            return jobs.enqueue(db, KIND, targets, now, {"force": True} if force else None, force=force)

        queued = await self.store.write(write)
        if queued:
            self.wake()
        return queued

    # -- running ----------------------------------------------------------------------
    async def run(self, *, until_idle: bool = False, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """Run the slots until cancelled, or (``until_idle``) until nothing is ready."""
        async with trio.open_nursery() as nursery:
            for index in range(self.workers):
                nursery.start_soon(self._slot, index, until_idle)
            task_status.started()

    async def _slot(self, index: int, until_idle: bool) -> None:
        worker: WorkerProcess | None = None
        idle_since = trio.current_time()
        try:
            while True:
                await self._playback_first(index)
                job = await self.store.write(jobs.claim, KIND, self.owner, self.settings.lease_s, time.time(),
                                             self.settings.backoff)
                if job is None:
                    if not self.active and self._working:
                        self._working = False
                        await self._announce("analysis.finished")
                    if until_idle and not self.active:
                        return
                    if worker is not None and trio.current_time() - idle_since > self.settings.idle_exit_s:
                        await worker.aclose()
                        worker, _ = None, self.pids.pop(index, None)
                    await self._wait_for_work()
                    continue
                self._working = True
                worker = await self._process(index, job, worker)
                idle_since = trio.current_time()
        finally:
            self.pids.pop(index, None)
            if worker is not None:
                await worker.aclose()

    async def _wait_for_work(self) -> None:
        with trio.move_on_after(self.settings.poll_s):
            await self._wake.wait()
        if self._wake.is_set():
            self._wake = trio.Event()

    async def _playback_first(self, index: int) -> None:
        if not self.busy():
            return
        while index > 0 and self.busy():
            await trio.sleep(self.settings.busy_pause_s)
        await trio.sleep(self.settings.busy_pause_s)

    async def _process(self, index: int, job: jobs.Job, worker: WorkerProcess | None) -> WorkerProcess | None:
        plan = await self.store.read(analysis_store.plan, job.target, self.versions, bool(job.payload.get("force")))
        if plan is None:  # the track is gone
            await self.store.write(jobs.drop, KIND, [job.target])
            return worker
        if not plan["features"]:
            await self.store.write(jobs.complete, job.id, self.owner, time.time())
            return worker
        try:
            path = existing_file(plan["root"], plan["path"])
        except NodeError as exc:
            await self._failed(job, str(exc))
            return worker
        features = [f for f in plan["features"] if f != analysis_store.FILE_ID]
        request = {"path": path, "features": features, "file_id": analysis_store.FILE_ID in plan["features"],
                   "leaves_dir": self.leaves_dir}
        self.active[index] = {"track_id": job.target, "features": plan["features"], "since": time.time()}
        died = None
        try:
            try:
                if worker is None:
                    worker = await WorkerProcess.start()
                    self.pids[index] = worker.pid
                self.active[index]["pid"] = worker.pid
                async with trio.open_nursery() as nursery:
                    nursery.start_soon(self._renew, job)
                    try:
                        reply = await worker.request(request)
                    except WorkerDied as exc:  # caught in here: out of the nursery it would be a group
                        died = str(exc)
                    finally:
                        nursery.cancel_scope.cancel()
            except WorkerDied as exc:  # while starting
                died = str(exc)
        except BaseException:
            with trio.CancelScope(shield=True):  # shutdown: give the job back, not counted as an attempt
                await self.store.write(jobs.release, job.id, self.owner, time.time())
            raise
        finally:
            self.active.pop(index, None)
        if died is not None:
            log.warning("analysis worker %s died on %s: %s", worker.pid if worker else "?", path, died)
            self.pids.pop(index, None)
            if worker is not None:
                await worker.aclose()
            await self._failed(job, f"the worker process died ({died})")
            return None
        if reply["ok"]:
            await self.store.write(self._save, job, plan, reply["results"])
            await self._announce("analysis.progress", track_id=job.target, state="done")
        else:
            await self._failed(job, reply["error"], reply.get("permanent", False))
        return worker

    def _save(self, db, job: jobs.Job, plan: dict, results: dict) -> None:
        stamps = {"content": plan["content_stamp"], "file": plan["file_stamp"]}
        album_id = analysis_store.save(db, job.target, results, stamps)
        if album_id is not None:
            analysis_store.update_album_gain(db, album_id, self.versions["loudness"])
        jobs.complete(db, job.id, self.owner, time.time())
        self.finished_jobs += 1

    async def _failed(self, job: jobs.Job, reason: str, permanent: bool = False) -> None:
        state = await self.store.write(jobs.fail, job.id, self.owner, reason, time.time(), self.settings.backoff,
                                       permanent)
        log.info("analysis of %s failed (%s, attempt %d): %s", job.target, state, job.attempts, reason)
        await self._announce("analysis.progress", track_id=job.target, state=state or "lost", error=reason)

    async def _renew(self, job: jobs.Job) -> None:
        while True:
            await trio.sleep(self.settings.renew_s)
            if not await self.store.write(jobs.renew, job.id, self.owner, self.settings.lease_s, time.time()):
                log.warning("analysis job %s: lease lost", job.id)

    async def _announce(self, kind: str, **extra) -> None:
        counts = await self.store.read(jobs.counts, KIND)
        self.publish(kind, {**counts, **extra})
