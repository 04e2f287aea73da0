"""Which time zone a user's days, hours and weekdays are in.

A user may set an IANA zone (``Europe/Madrid``); otherwise the node's own
local zone applies (a home server usually sits where its people live).
Stats buckets are cut in this zone when a play is counted, so changing it
rebuilds the user's aggregates (:func:`sonantica.node.analytics.stats.rebuild`).
"""

from __future__ import annotations

import functools
import os
from datetime import tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import InvalidInput
from ..store.db import Database


@functools.lru_cache(maxsize=64)
def zone(name: str | None) -> tzinfo:
    if not name:
        return node_zone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {name!r} (use an IANA name such as Europe/Madrid)") from exc


@functools.lru_cache(maxsize=1)
def node_zone() -> tzinfo:
    name = os.environ.get("TZ")
    if name:
        try:
            return ZoneInfo(name.lstrip(":"))
        except (ZoneInfoNotFoundError, ValueError):
            pass
    try:
        target = os.path.realpath("/etc/localtime")
        if "zoneinfo/" in target:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
    except (OSError, ZoneInfoNotFoundError, ValueError):
        pass
    return ZoneInfo("UTC")


def of_user(db: Database, user_id: str) -> tzinfo:
    row = db.conn.execute("SELECT tz FROM analytics_user WHERE user_id = ?", (user_id,)).fetchone()
    return zone(row[0] if row else None)  # one primary-key lookup; zone() is cached


def name_of(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


__all__ = ["zone", "node_zone", "of_user", "name_of"]
