"""Watching the library folders while serving, so that changes are indexed within seconds.

watchfiles (inotify on Linux, FSEvents on macOS) reports changes; they are
debounced and then an incremental scan runs, which touches only what changed
(unchanged files cost a stat each). Where the OS gives no notifications (some
network mounts), a periodic rescan is the fallback.
"""

from __future__ import annotations

import logging
import os

import trio

from .scanner import Scanner

log = logging.getLogger(__name__)

DEBOUNCE_MS = 800
FALLBACK_RESCAN_S = 3600


async def watch(scanner: Scanner) -> None:
    roots = [p for p in scanner.music if os.path.isdir(p)]
    if not roots:
        return
    try:
        import watchfiles
    except ImportError:  # pragma: no cover - declared dependency
        await _poll(scanner)
        return
    async with trio.open_nursery() as nursery:
        nursery.start_soon(_poll, scanner)
        try:
            async for _changes in watchfiles.awatch(*roots, debounce=DEBOUNCE_MS, step=100, recursive=True):
                await _rescan(scanner, "change")
        except (OSError, RuntimeError) as exc:
            log.warning("file watching unavailable (%s); rescanning every %d s instead", exc, FALLBACK_RESCAN_S)
            await trio.sleep_forever()


async def _poll(scanner: Scanner) -> None:
    while True:
        await trio.sleep(FALLBACK_RESCAN_S)
        await _rescan(scanner, "periodic")


async def _rescan(scanner: Scanner, why: str) -> None:
    try:
        summary = await scanner.scan()
    except Exception:
        log.exception("rescan after %s failed; will retry on the next change", why)
        return
    if summary.added or summary.updated or summary.removed:
        log.info("library changed (%s): %d added, %d updated, %d removed",
                 why, summary.added, summary.updated, summary.removed)
