"""``sonantica stats``: a user's listening stats from the command line (works while the node serves)."""

from __future__ import annotations

import argparse
import json

from ..config import DataDir
from ..errors import NotFound
from ..store import users as users_store
from ..store.db import Store

#: stats.PERIODS but "range" (given by --from/--to); here so that adding the parser loads no analytics
PERIODS = ("today", "yesterday", "week", "month", "year", "all")


def add_parsers(subparsers, commands: dict) -> None:
    s = subparsers.add_parser("stats", help="show a user's listening stats")
    s.add_argument("--user", metavar="NAME", help="whose stats (default: the owner)")
    s.add_argument("--period", default="month", choices=PERIODS,
                   help="today, yesterday, week, month (default), year or all")
    s.add_argument("--from", dest="start", metavar="DATE", help="start of a date range (YYYY-MM-DD)")
    s.add_argument("--to", dest="end", metavar="DATE", help="end of a date range, inclusive")
    s.add_argument("--limit", type=int, default=10, help="entries per top list (default 10)")
    s.add_argument("--json", action="store_true", help="print the stats as JSON")
    commands["stats"] = cmd_stats


def _user(db, name: str | None) -> dict:
    if name:
        return users_store.require_by_name(db, name)
    owners = [u for u in users_store.list_users(db) if u["role"] == "owner"]
    if not owners:
        raise NotFound("this node has no users yet; add one with `sonantica user add NAME`")
    return owners[0]


def cmd_stats(data: DataDir, args: argparse.Namespace) -> int:
    from . import stats as stats_mod

    data.require()
    store = Store.open(data.db_path)
    try:
        user = store.read_sync(_user, args.user)
        out = store.read_sync(lambda db: stats_mod.stats(db, user["id"], args.period, start=args.start,
                                                         end=args.end, limit=args.limit))
    finally:
        store.close()
    out["user"] = user["name"]
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
        return 0
    print(render(out))
    return 0


def _duration(ms: int) -> str:
    minutes = ms // 60000
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def render(s: dict) -> str:
    span = "all time" if s["period"] == "all" else f"{s['from']} – {s['to']}"
    lines = [f"{s['user']}: {s['totals']['plays']} plays, {_duration(s['totals']['ms'])} ({s['period']}, {span}, "
             f"{s['tz']})"]
    for kind in ("artists", "albums", "tracks", "genres"):
        rows = s["top"][kind]
        if rows:
            lines.append(f"Top {kind}:")
            for n, r in enumerate(rows, 1):
                by = f" — {r['artist']}" if r.get("artist") else ""
                lines.append(f"  {n:>2}. {r['name']}{by}  ({r['plays']})")
    peak = max(s["by_hour"], key=lambda h: h["plays"])
    if peak["plays"]:
        lines.append(f"Busiest hour: {peak['hour']:02d}:00 ({peak['plays']} plays)")
    d = s["discoveries"]
    lines.append(f"New: {d['tracks']} tracks, {d['artists']} artists. Streak: {s['streaks']['current']} days "
                 f"(longest {s['streaks']['longest']})")
    return "\n".join(lines)
