"""The serving node: one root nursery for the store, scanner, watcher, workers and HTTP.

``serve`` holds an exclusive lock on ``serve.lock`` (with the pid inside) so
that a second ``serve`` on the same data folder refuses to start and
``restore`` knows the node is live. SIGINT/SIGTERM cancel the root nursery;
hypercorn gets a graceful-shutdown deadline, then everything is cancelled.
"""

from __future__ import annotations

import fcntl
import logging
import os
import signal
from pathlib import Path

import trio

from .bus import Bus
from .config import Config, DataDir
from .errors import NodeIsRunning
from .library.scanner import Scanner
from .store.db import Store

log = logging.getLogger("sonantica")

SHUTDOWN_GRACE_S = 3.0


# Subsystems that run beside the HTTP app while serving: each module has
# ``async def run(node, *, task_status)`` (it calls task_status.started() once ready).
SERVICES = (
    "sonantica.node.analysis.service",
    "sonantica.node.federation.service",
    "sonantica.node.analytics.service",
)


def _service_modules():
    from importlib import import_module

    for name in SERVICES:
        try:
            yield import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def running_pid(data: DataDir) -> int | None:
    """The pid of the process serving this data folder, or None."""
    path = data.serve_lock
    if not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            return int(Path(path).read_text().strip() or 0) or -1
        except (OSError, ValueError):
            return -1
    finally:
        os.close(fd)
    return None


def _hold_serve_lock(data: DataDir) -> int:
    fd = os.open(data.serve_lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise NodeIsRunning(f"another `sonantica serve` already runs on {data.root}") from None
    os.ftruncate(fd, 0)
    os.write(fd, str(os.getpid()).encode())
    return fd


class Node:
    """Everything one running node holds; handed to the API and the background services."""

    def __init__(self, data: DataDir, config: Config, store: Store) -> None:
        from .streaming import TranscodeCache, TranscodeLimiter

        self.data = data
        self.config = config
        self.store = store
        self.bus = Bus()
        self.scanner = Scanner(store, list(config.music), data.cache_dir / "covers", data.scan_lock, config.scan_workers)
        self.scanner.listeners.append(self.bus.publish)
        self.transcode_limiter = TranscodeLimiter(config.max_transcodes)
        self.transcode_cache = TranscodeCache(data.cache_dir / "transcodes", config.transcode_cache_mb * 1024 * 1024)
        self.nursery: trio.Nursery | None = None
        self.app = None
        self.federation = None  # set by federation.service while serving
        # background services of subsystems: async fn(node, *, task_status), see SERVICES
        self.services: list = [module.run for module in _service_modules()]

    def start_scan(self, full: bool = False) -> bool:
        """Start a scan in the background; False when one is already running."""
        if self.scanner.running or self.nursery is None:
            return False
        self.nursery.start_soon(self.scan_logged, full)
        return True

    async def scan_logged(self, full: bool = False) -> None:
        try:
            summary = await self.scanner.scan(full=full)
            log.info("scan: %s", {k: v for k, v in summary.as_dict().items() if k != "problems"})
        except Exception:
            log.exception("scan failed")


async def serve(data: DataDir, config: Config, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    """Run the node until cancelled or signalled; reports the bound addresses via task_status."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    data.require()
    lock_fd = _hold_serve_lock(data)
    store = Store.open(data.db_path)
    try:
        node = Node(data, config, store)
        await trio.to_thread.run_sync(node.transcode_cache.load)
        node.bus.bind()
        async with trio.open_nursery() as nursery:
            node.nursery = nursery
            nursery.start_soon(_stop_on_signal, nursery.cancel_scope)
            nursery.start_soon(node.scan_logged, False)
            if config.watch:
                from .library.watcher import watch

                nursery.start_soon(watch, node.scanner)
            for service in node.services:
                await nursery.start(service, node)
            bound = await nursery.start(_run_http, node)
            log.info("%s serving on %s", config.name, ", ".join(bound))
            task_status.started(bound)
    finally:
        store.close()
        os.close(lock_fd)


async def _run_http(node: Node, *, task_status=trio.TASK_STATUS_IGNORED) -> None:
    try:
        from .api.server import run_http
    except ImportError:
        task_status.started([])
        await trio.sleep_forever()
        return
    await run_http(node, task_status=task_status)


async def _stop_on_signal(scope: trio.CancelScope) -> None:
    with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async for signum in signals:
            log.info("received %s, shutting down", signal.Signals(signum).name)
            scope.deadline = trio.current_time() + SHUTDOWN_GRACE_S
            scope.cancel()
            return
