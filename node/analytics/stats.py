"""Stats per user and period, read from the aggregates that counting maintains.

A period (today, week, month, year, all, or any range of dates) is resolved in
the user's time zone to a half-open range of dates, then cut into the fewest
calendar buckets: whole years, then whole months, then days at the edges
(:func:`decompose`). "This month" is one bucket; a range from 15 March 2019 to
10 June 2023 is 26 days, 13 months and 3 years. Reading the top lists is then
one indexed query per kind, whatever the length of the history.

Everything returned is JSON ready to plot: fixed-length hour (24) and weekday
(7) histograms, and a timeline with one point per day or per month, gaps
filled with zeros.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, time as dtime, timedelta, tzinfo

from ..errors import InvalidInput
from ..store import browse, scope
from ..store import plays as ps
from ..store.db import Database
from . import plays as plays_mod
from . import timezone

PERIODS = ("today", "yesterday", "week", "month", "year", "all", "range")
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
TOP_DEFAULT, TOP_MAX = 10, 100
DAILY_TIMELINE_MAX_DAYS = 92


@dataclass(frozen=True)
class Period:
    name: str
    first: date | None  # None: all time
    end: date | None  # exclusive
    start_ts: float
    end_ts: float
    buckets: tuple[tuple[str, int], ...]


def _next_month(d: date) -> date:
    return date(d.year + (d.month == 12), d.month % 12 + 1, 1)


def decompose(first: date, end: date) -> list[tuple[str, int]]:
    """The fewest (granularity, bucket) pairs covering the dates [first, end)."""
    out: list[tuple[str, int]] = []
    d = first
    while d < end:
        if d.month == 1 and d.day == 1 and date(d.year + 1, 1, 1) <= end:
            out.append(("y", d.year))
            d = date(d.year + 1, 1, 1)
        elif d.day == 1 and _next_month(d) <= end:
            out.append(("m", d.year * 100 + d.month))
            d = _next_month(d)
        else:
            out.append(("d", d.year * 10000 + d.month * 100 + d.day))
            d += timedelta(days=1)
    return out


def _midnight(d: date, tz: tzinfo) -> float:
    return datetime.combine(d, dtime(), tz).timestamp()


def _parse_date(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{name} must be a date like 2024-05-31") from None


def resolve(period: str, now: float, tz: tzinfo, start: str | None = None, end: str | None = None) -> Period:
    """The dates and buckets of a named period; ``range`` takes ``start`` and ``end`` (inclusive dates)."""
    if start or end:
        period = "range"
    if period not in PERIODS:
        raise InvalidInput(f"period must be one of {', '.join(PERIODS)}")
    today = datetime.fromtimestamp(now, tz).date()
    if period == "all":
        return Period("all", None, None, 0.0, now + 1, (("a", 0),))
    if period == "today":
        first, last = today, today
    elif period == "yesterday":
        first = last = today - timedelta(days=1)
    elif period == "week":
        first, last = today - timedelta(days=today.weekday()), today
    elif period == "month":
        first, last = today.replace(day=1), today
    elif period == "year":
        first, last = today.replace(month=1, day=1), today
    else:
        if not start or not end:
            raise InvalidInput("a range needs both start and end dates")
        first, last = _parse_date(start, "start"), _parse_date(end, "end")
        if last < first:
            raise InvalidInput("end must not be before start")
        if (last - first).days > 366 * 100:
            raise InvalidInput("a range may span at most 100 years")
    stop = last + timedelta(days=1)
    return Period(period, first, stop, _midnight(first, tz), _midnight(stop, tz), tuple(decompose(first, stop)))


# -- reading -----------------------------------------------------------------------------------------
def stats(db: Database, user_id: str, period: str = "month", *, now: float | None = None,
          start: str | None = None, end: str | None = None, limit: int = TOP_DEFAULT) -> dict:
    now = time.time() if now is None else now
    limit = max(1, min(int(limit), TOP_MAX))
    tz = timezone.of_user(db, user_id)
    p = resolve(period, now, tz, start, end)
    buckets = list(p.buckets)
    total = ps.top(db, user_id, "total", buckets, 1)
    plays, ms = (total[0][1], total[0][2]) if total else (0, 0)
    out = {
        "period": p.name, "tz": timezone.name_of(tz),
        "from": p.first.isoformat() if p.first else None,
        "to": (p.end - timedelta(days=1)).isoformat() if p.end else None,
        "totals": {"plays": plays, "ms": ms, "minutes": round(ms / 60000, 1)},
        "top": {kind + "s": _top(db, user_id, kind, buckets, limit) for kind in ("track", "album", "artist", "genre")},
        "by_hour": _histogram(db, user_id, "hour", buckets, 24, lambda i: {"hour": i}),
        "by_weekday": _histogram(db, user_id, "weekday", buckets, 7,
                                 lambda i: {"weekday": i, "name": WEEKDAYS[i]}),
        "timeline": _timeline(db, user_id, p, now, tz),
        "discoveries": _discoveries(db, user_id, p, limit),
        "streaks": streaks(ps.day_totals(db, user_id), datetime.fromtimestamp(now, tz).date()),
    }
    return out


def _top(db, user_id: str, kind: str, buckets, limit: int) -> list[dict]:
    rows = ps.top(db, user_id, kind, buckets, limit if not scope.limited() else limit * 4 + 50)
    rows = _visible(db, kind, rows, key=lambda r: r[0])[:limit]
    if kind == "genre":
        return [{"name": item, "plays": p, "ms": m} for item, p, m in rows]
    named = ps.names(db, kind, [r[0] for r in rows])
    out = []
    for item, p, m in rows:
        name, extra = named.get(item, (item, None))
        entry = {"id": item, "name": name, "plays": p, "ms": m}
        if kind in ("track", "album"):
            entry["artist"] = extra
        out.append(entry)
    return out


def _histogram(db, user_id: str, kind: str, buckets, size: int, label) -> list[dict]:
    plays, ms = [0] * size, [0] * size
    for _, _, item, p, m in ps.series(db, user_id, kind, buckets):
        i = int(item)
        if 0 <= i < size:
            plays[i] += p
            ms[i] += m
    return [label(i) | {"plays": plays[i], "ms": ms[i]} for i in range(size)]


def _timeline(db, user_id: str, p: Period, now: float, tz: tzinfo) -> dict:
    if p.first is None:
        rows = ps.totals_by_gran(db, user_id, "m")
        if not rows:
            return {"unit": "month", "points": []}
        first = date(rows[0][0] // 100, rows[0][0] % 100, 1)
        last = datetime.fromtimestamp(now, tz).date()
    else:
        first, last = p.first, p.end - timedelta(days=1)
    if (last - first).days < DAILY_TIMELINE_MAX_DAYS:
        days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
        keys = [d.year * 10000 + d.month * 100 + d.day for d in days]
        got = {b: (pl, m) for _, b, _, pl, m in ps.series(db, user_id, "total", [("d", k) for k in keys])}
        return {"unit": "day", "points": [{"t": d.isoformat(), "plays": got.get(k, (0, 0))[0],
                                           "ms": got.get(k, (0, 0))[1]} for d, k in zip(days, keys)]}
    months, d = [], first.replace(day=1)
    while d <= last:
        months.append(d)
        d = _next_month(d)
    keys = [m.year * 100 + m.month for m in months]
    got = _month_totals(db, user_id, keys)
    return {"unit": "month", "points": [{"t": m.strftime("%Y-%m"), "plays": got.get(k, (0, 0))[0],
                                         "ms": got.get(k, (0, 0))[1]} for m, k in zip(months, keys)]}


def _month_totals(db, user_id: str, keys: list[int]) -> dict[int, tuple[int, int]]:
    got: dict[int, tuple[int, int]] = {}
    for i in range(0, len(keys), 400):
        for _, b, _, pl, m in ps.series(db, user_id, "total", [("m", k) for k in keys[i:i + 400]]):
            got[b] = (pl, m)
    return got


def _discoveries(db, user_id: str, p: Period, limit: int) -> dict:
    n_tracks, _ = ps.first_in(db, user_id, "track", p.start_ts, p.end_ts, 0)
    n_artists, artists = ps.first_in(db, user_id, "artist", p.start_ts, p.end_ts, limit)
    artists = _visible(db, "artist", artists, key=lambda a: a)
    named = ps.names(db, "artist", artists)
    return {"tracks": n_tracks, "artists": n_artists,
            "new_artists": [{"id": a, "name": named.get(a, (a, None))[0]} for a in artists]}


def _visible(db, kind: str, rows: list, key) -> list:
    """Rows naming only items the caller may see (store/scope.py): a listener limited to some folders
    after listening elsewhere keeps their totals but is not shown what lies outside them."""
    if not scope.limited():
        return rows
    items = [key(r) for r in rows]
    if kind == "genre":
        shown = {g["name"].lower() for g in browse.list_genres(db)}
        return [r for r in rows if str(key(r)).lower() in shown]
    if kind == "track":
        shown = {t["id"] for t in browse.tracks_by_ids(db, items)}
    elif kind == "album":
        shown = {a["id"] for a in browse.albums_by_ids(db, items)}
    elif kind == "artist":
        shown = {a["id"] for a in browse.artists_by_ids(db, items)}
    else:
        return rows
    return [r for r in rows if key(r) in shown]


def streaks(days: list[int], today: date) -> dict:
    """Current and longest runs of consecutive days with at least one counted play."""
    if not days:
        return {"current": 0, "longest": 0, "longest_from": None, "longest_to": None}
    as_dates = [date(d // 10000, d // 100 % 100, d % 100) for d in days]
    best = (1, as_dates[0], as_dates[0])
    run_start, prev = as_dates[0], as_dates[0]
    for d in as_dates[1:]:
        if (d - prev).days != 1:
            run_start = d
        prev = d
        length = (d - run_start).days + 1
        if length > best[0]:
            best = (length, run_start, d)
    last = as_dates[-1]
    current = (last - run_start).days + 1 if (today - last).days <= 1 else 0
    return {"current": current, "longest": best[0], "longest_from": best[1].isoformat(),
            "longest_to": best[2].isoformat()}


# -- maintenance ---------------------------------------------------------------------------------------
def rebuild(db: Database, user_id: str) -> int:
    """Recompute a user's aggregates from their plays (after a delete or a time-zone change)."""
    ps.clear_aggregates(db, user_id)
    tz = timezone.of_user(db, user_id)
    n = 0
    for play in ps.plays_for_rebuild(db, user_id):
        if play["counted"]:
            facts = plays_mod.track_facts(db, play["track_id"], plays_mod._meta_of(play))
            plays_mod.book_play(db, play, facts, tz, 1, play["played_ms"])
            n += 1
        else:
            ps.note_listen(db, user_id, [("track", play["track_id"])], play["started_at"], 0, play["skipped"])
    return n


def delete_history(db: Database, user_id: str, start: float | None = None,
                   end: float | None = None) -> int:
    n = ps.delete_history(db, user_id, start, end)
    rebuild(db, user_id)
    return n


def set_timezone(db: Database, user_id: str, tz_name: str | None, share_aggregates: bool) -> None:
    timezone.zone(tz_name)  # refuses unknown zones
    before = ps.user_settings(db, user_id)
    ps.set_user_settings(db, user_id, tz_name, share_aggregates)
    if before.get("tz") != tz_name:
        rebuild(db, user_id)
