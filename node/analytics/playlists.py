"""Generated playlists (daily mixes, discoveries, forgotten favourites), radio, and smart playlists.

Generated and smart playlists are ordinary rows of the ``playlist`` table
owned by the user, with ``generated`` set to their kind (``daily-mix-1``,
``discoveries``, ``forgotten``, ``smart``); :func:`sonantica.node.store.playlists.can_write`
already refuses to edit them, so every client sees them read-only. Their items
are materialised by :func:`refresh_user` (daily by the service, and on demand),
and a smart playlist's items again whenever a play is counted or the library
changes (:func:`refresh_smart`), so Subsonic clients see them live too.

Smart playlist rules follow Navidrome's ``.nsp``::

    {"all": [{"is": {"genre": "Jazz"}}, {"gt": {"playcount": 3}},
             {"any": [{"inTheLast": {"lastplayed": 30}}, {"is": {"loved": true}}]}],
     "sort": "-playcount", "limit": 50}

Operators: is, isNot, gt, lt, contains, notContains, startsWith, endsWith,
inTheRange ([lo, hi]), before, after (dates), inTheLast, notInTheLast (days).
Fields are the keys of ``FIELDS``; every value is bound as a parameter.
"""

from __future__ import annotations

import json
import time
from datetime import date, datetime

import numpy as np

from ..errors import InvalidInput, NotFound
from ..store import browse, scope, users
from ..store import playlists as pl
from ..store import plays as ps
from ..store.db import Database
from . import recommend as rec

MIX_SIZE = 30
MAX_MIXES = 4
GENERATED = ("daily-mix", "discoveries", "forgotten")
RADIO_MAX_SERVED = 5000

# -- smart rules ----------------------------------------------------------------------------------
_ANN = "(SELECT {col} FROM annotation a WHERE a.user_id = :user AND a.kind = 'track' AND a.item_id = t.id)"
_LISTEN = "(SELECT {col} FROM listen_item li WHERE li.user_id = :user AND li.kind = 'track' AND li.item = t.id)"
FIELDS = {
    "title": ("t.title", "text"), "album": ("t.album", "text"), "artist": ("t.artist", "text"),
    "albumartist": ("t.album_artist", "text"), "composer": ("t.composer", "text"),
    "comment": ("t.comment", "text"), "label": ("t.label", "text"),
    "filetype": ("t.format", "text"), "codec": ("t.codec", "text"),
    "genre": ("(SELECT group_concat(g.name, '\x1f') FROM track_genre tg JOIN genre g ON g.id = tg.genre_id "
              "WHERE tg.track_id = t.id)", "multi"),
    "year": ("t.year", "number"), "duration": ("t.duration", "number"), "bitrate": ("t.bitrate", "number"),
    "bpm": ("t.bpm", "number"), "tracknumber": ("t.track_no", "number"), "discnumber": ("t.disc_no", "number"),
    "samplerate": ("t.sample_rate", "number"), "bitdepth": ("t.bit_depth", "number"),
    "compilation": ("t.compilation", "bool"), "lossless": ("t.lossless", "bool"),
    "dateadded": ("t.created_at", "time"), "datemodified": ("t.updated_at", "time"),
    "playcount": (f"coalesce({_LISTEN.format(col='plays')}, 0)", "number"),
    "skipcount": (f"coalesce({_LISTEN.format(col='skips')}, 0)", "number"),
    "lastplayed": (_LISTEN.format(col="last_at"), "time"),
    "loved": (f"({_ANN.format(col='starred_at')} IS NOT NULL)", "bool"),
    "dateloved": (_ANN.format(col="starred_at"), "time"),
    "rating": (f"coalesce({_ANN.format(col='rating')}, 0)", "number"),
}
ALIASES = {"starred": "loved", "plays": "playcount", "date_added": "dateadded", "albumartists": "albumartist",
           "datestarred": "dateloved", "lastplayedat": "lastplayed", "tempo": "bpm"}
OPERATORS = ("is", "isNot", "gt", "lt", "contains", "notContains", "startsWith", "endsWith", "inTheRange",
             "before", "after", "inTheLast", "notInTheLast")
MAX_RULES, MAX_DEPTH = 100, 5


def _field(name: str) -> tuple[str, str]:
    key = ALIASES.get(str(name).lower(), str(name).lower())
    if key not in FIELDS:
        raise InvalidInput(f"unknown smart playlist field {name!r} (known: {', '.join(sorted(FIELDS))})")
    return FIELDS[key]


def _time_value(value) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return datetime.combine(date.fromisoformat(str(value)), datetime.min.time()).timestamp()
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _condition(op: str, body, params: list, now: float, count: list[int]) -> str:
    if not isinstance(body, dict) or len(body) != 1:
        raise InvalidInput(f"{op} takes one {{field: value}}")
    count[0] += 1
    if count[0] > MAX_RULES:
        raise InvalidInput(f"a smart playlist may hold at most {MAX_RULES} rules")
    (name, value), = body.items()
    expr, kind = _field(name)
    if kind == "multi":  # genres: match any of the track's genres
        if op in ("is", "isNot"):
            params.append(f"%\x1f{str(value).lower()}\x1f%")
            sql = f"('\x1f' || lower(coalesce({expr}, '')) || '\x1f' LIKE ?)"
            return sql if op == "is" else f"NOT {sql}"
        expr, kind = f"coalesce({expr}, '')", "text"
    if op in ("is", "isNot"):
        if kind == "bool":
            value = int(bool(value))
        elif kind == "text":
            expr, value = f"lower({expr})", str(value).lower()
        params.append(value)
        return f"({expr} = ?)" if op == "is" else f"({expr} IS NOT ?)"
    if op in ("contains", "notContains", "startsWith", "endsWith"):
        text = str(value).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = {"contains": f"%{text}%", "notContains": f"%{text}%", "startsWith": f"{text}%",
                   "endsWith": f"%{text}"}[op]
        params.append(pattern)
        sql = f"(coalesce({expr}, '') LIKE ? ESCAPE '\\')"
        return f"NOT {sql}" if op == "notContains" else sql
    if op in ("gt", "lt", "before", "after"):
        v = _time_value(value) if kind == "time" else _number(value)
        params.append(v)
        return f"({expr} {'>' if op in ('gt', 'after') else '<'} ?)"
    if op == "inTheRange":
        if not isinstance(value, list) or len(value) != 2:
            raise InvalidInput("inTheRange takes [low, high]")
        lo, hi = ((_time_value(v) if kind == "time" else _number(v)) for v in value)
        params += [lo, hi]
        return f"({expr} BETWEEN ? AND ?)"
    if op in ("inTheLast", "notInTheLast"):
        if kind != "time":
            raise InvalidInput(f"{op} works on dates (lastplayed, dateadded, dateloved)")
        params.append(now - _number(value) * 86400)
        return f"({expr} >= ?)" if op == "inTheLast" else f"({expr} IS NULL OR {expr} < ?)"
    raise InvalidInput(f"unknown operator {op!r} (known: {', '.join(OPERATORS)})")


def _number(value) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(f"{value!r} is not a number")
    try:
        return float(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a number") from None


def _group(rules: dict, params: list, now: float, depth: int, count: list[int]) -> str:
    if depth > MAX_DEPTH:
        raise InvalidInput(f"smart playlist rules nest at most {MAX_DEPTH} deep")
    keys = [k for k in ("all", "any") if k in rules]
    if len(keys) != 1 or not isinstance(rules[keys[0]], list):
        raise InvalidInput('a rule group is {"all": [...]} or {"any": [...]}')
    parts = []
    for item in rules[keys[0]]:
        if not isinstance(item, dict) or len(item) != 1:
            raise InvalidInput("each rule is one {operator: {field: value}} or a nested group")
        (op, body), = item.items()
        if op in ("all", "any"):
            parts.append(_group(item, params, now, depth + 1, count))
        else:
            parts.append(_condition(op, body, params, now, count))
    if not parts:
        return "1"
    return "(" + (" AND " if keys[0] == "all" else " OR ").join(parts) + ")"


def compile_rules(rules: dict, now: float | None = None) -> tuple[str, list, str, int]:
    """(WHERE sql with :user, positional params, ORDER BY sql, limit) of a rule set."""
    if not isinstance(rules, dict):
        raise InvalidInput("rules must be a JSON object")
    now = time.time() if now is None else now
    params: list = []
    where = _group(rules, params, now, 0, [0])
    sort = str(rules.get("sort") or "title")
    desc = sort.startswith("-") or str(rules.get("order", "asc")).lower() == "desc"
    if sort.lower() == "random":
        order = "random()"
    else:
        expr, _ = _field(sort.lstrip("+-"))
        order = f"{expr} {'DESC' if desc else 'ASC'}, t.id"
    limit = rules.get("limit", 1000)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= pl.MAX_ITEMS:
        raise InvalidInput(f"limit must be an integer from 1 to {pl.MAX_ITEMS}")
    return where, params, order, limit


def evaluate(db: Database, user_id: str, rules: dict, now: float | None = None) -> list[str]:
    where, params, order, limit = compile_rules(rules, now)
    sql = f"SELECT t.id FROM track t WHERE ({where}) AND {scope.sql('t.folder_id')} ORDER BY {order} LIMIT {int(limit)}"
    # named :user inside, positional ? for values: sqlite3 wants one style, so inline the user as a parameter
    sql = sql.replace(":user", "?")
    bound = _bind_user(where, params, user_id) + _order_user(order, user_id)
    return [r[0] for r in db.conn.execute(sql, bound)]


def _bind_user(where: str, params: list, user_id: str) -> list:
    """Interleave the user id with the values, in the order the placeholders appear."""
    out, it = [], iter(params)
    i = 0
    while i < len(where):
        if where.startswith(":user", i):
            out.append(user_id)
            i += 5
        elif where[i] == "?":
            out.append(next(it))
            i += 1
        elif where[i] == "'":  # skip quoted literals
            j = where.index("'", i + 1)
            i = j + 1
        else:
            i += 1
    return out


def _order_user(order: str, user_id: str) -> list:
    return [user_id] * order.count(":user")


# -- stored playlists -----------------------------------------------------------------------------------
def _upsert(db, user_id: str, kind: str, name: str, comment: str, track_ids: list[str],
            rules: dict | None = None, playlist_id: str | None = None) -> str:
    row = None
    if playlist_id is None:
        row = db.conn.execute("SELECT id FROM playlist WHERE owner_id = ? AND generated = ?",
                              (user_id, kind)).fetchone()
    pid = playlist_id or (row[0] if row else None)
    if pid is None:
        pid = pl.create(db, user_id, name, [], comment)
    else:
        pl.update(db, pid, name=name, comment=comment)
    db.conn.execute("UPDATE playlist SET generated = ?, rules = ? WHERE id = ?",
                    (kind, json.dumps(rules) if rules is not None else None, pid))
    pl.set_items(db, pid, track_ids[: pl.MAX_ITEMS])
    return pid


def generated_of(db: Database, user_id: str) -> list[dict]:
    ids = [r[0] for r in db.conn.execute(
        "SELECT id FROM playlist WHERE owner_id = ? AND generated IS NOT NULL ORDER BY generated", (user_id,))]
    return [pl.get(db, i) for i in ids]


def create_smart(db: Database, user_id: str, name: str, rules: dict, comment: str = "") -> str:
    ids = evaluate(db, user_id, rules)
    return _upsert(db, user_id, "smart", name, comment, ids, rules, playlist_id=pl.create(db, user_id, name, [],
                                                                                          comment))


def update_smart(db: Database, user_id: str, playlist_id: str, rules: dict | None,
                 name: str | None = None) -> None:
    p = pl.get(db, playlist_id)
    if p["owner_id"] != user_id or p["generated"] != "smart":
        raise NotFound(f"no smart playlist {playlist_id}")
    rules = rules if rules is not None else p["rules"]
    _upsert(db, user_id, "smart", name or p["name"], p["comment"], evaluate(db, user_id, rules), rules,
            playlist_id=playlist_id)


def refresh_smart(db: Database, user_id: str | None = None, now: float | None = None) -> int:
    """Re-evaluate smart playlists (of one user, or all): they follow plays, stars and the library."""
    sql = "SELECT id, owner_id, rules FROM playlist WHERE generated = 'smart'"
    rows = db.conn.execute(sql + (" AND owner_id = ?" if user_id else ""), (user_id,) if user_id else ()).fetchall()
    for pid, owner, rules in rows:
        try:
            with scope.only(users.scope_of(db, owner)):  # the owner's folders, whoever refreshes
                ids = evaluate(db, owner, json.loads(rules or "{}"), now)
        except InvalidInput:
            continue  # a rule set that no longer compiles keeps its last items
        if ids != pl.items(db, pid):
            pl.set_items(db, pid, ids)
    return len(rows)


# -- generated ------------------------------------------------------------------------------------------
def discoveries(db: Database, user_id: str, count: int = 50, now: float | None = None) -> list[str]:
    """Tracks the user never played, friends' first: what members hold that this user has not heard."""
    picks = rec.recommend(db, user_id, count * 3, now=now, exclude_played=True)
    picks.sort(key=lambda p: (p.source == "local", -p.score))
    return [p.id for p in picks[:count]]


def forgotten(db: Database, user_id: str, count: int = 50, now: float | None = None,
              min_plays: int = 3, idle_days: float = 60) -> list[str]:
    """Favourites not played for ``idle_days``: many plays, long ago first."""
    now = time.time() if now is None else now
    rows = [r for r in ps.listen_items(db, user_id, "track") if r[1] >= min_plays and r[3] < now - idle_days * 86400]
    rows.sort(key=lambda r: -(r[1] * np.log1p((now - r[3]) / 86400)))
    cat = rec.candidates(db)
    mask = rec.visible_mask(cat)
    order = np.array([cat.index[r[0]] for r in rows if r[0] in cat.index
                      and (mask is None or mask[cat.index[r[0]]])], np.int64)
    return [cat.ids[i] for i in rec.diverse(order, cat, count, max_per_artist=max(2, count // 8))]


def daily_mixes(db: Database, user_id: str, now: float | None = None, size: int = MIX_SIZE,
                max_mixes: int = MAX_MIXES) -> list[dict]:
    """A few mixes by taste cluster (the user's genres), each a third favourites, two thirds new to them."""
    now = time.time() if now is None else now
    cat = rec.candidates(db)
    state = rec.user_state(db, cat, user_id, now)
    if not state.weights:
        return []
    mask = rec.visible_mask(cat)
    groups: dict[int, dict[int, float]] = {}
    for i, w in state.weights.items():
        key = int(cat.primary_genre[i]) if cat.primary_genre[i] >= 0 else -1 - int(cat.artist[i])
        groups.setdefault(key, {})[i] = w
    total = sum(state.weights.values())
    ranked = sorted(groups.items(), key=lambda kv: -sum(kv[1].values()))
    ranked = [g for g in ranked if sum(g[1].values()) >= 0.05 * total][:max_mixes]
    mixes, used = [], set()
    for n, (key, seeds) in enumerate(ranked, 1):
        sc = rec.score(db, cat, rec.top_seeds(seeds, 100))
        fresh = sc.total * rec.freshness(state, now)
        fresh[list(used)] = -1
        fresh[list(seeds)] = -1
        if mask is not None:
            fresh[~mask] = -1
        order = np.argsort(-fresh, kind="stable")
        new = rec.diverse(order[fresh[order] > 0][: size * 20], cat, size - size // 3)
        fav_order = np.array(sorted((i for i in seeds if i not in used), key=lambda i: -seeds[i]), np.int64)
        favs = rec.diverse(fav_order, cat, size // 3, max_per_artist=3)
        items = _interleave(favs, new)
        used.update(items)
        label = cat.genres[key] if key >= 0 else cat.artist_names[-1 - key]
        artists = list(dict.fromkeys(cat.artist_names[cat.artist[i]] for i in favs))[:3]
        mixes.append({"kind": f"daily-mix-{n}", "name": f"Daily Mix {n}: {label}",
                      "comment": f"{label} · {', '.join(artists)}", "track_ids": [cat.ids[i] for i in items]})
    return mixes


def _interleave(favs: list[int], new: list[int]) -> list[int]:
    out, f, k = [], list(favs), list(new)
    while f or k:
        if k:
            out.append(k.pop(0))
        if k:
            out.append(k.pop(0))
        if f:
            out.append(f.pop(0))
    return out


def refresh_user(db: Database, user_id: str, now: float | None = None) -> list[str]:
    """Recompute every generated playlist of one user, from the music folders they may see."""
    with scope.only(users.scope_of(db, user_id)):
        return _refresh_user(db, user_id, now)


def _refresh_user(db: Database, user_id: str, now: float | None = None) -> list[str]:
    now = time.time() if now is None else now
    ids = []
    mixes = daily_mixes(db, user_id, now)
    for mix in mixes:
        ids.append(_upsert(db, user_id, mix["kind"], mix["name"], mix["comment"], mix["track_ids"]))
    keep = {m["kind"] for m in mixes}
    db.conn.execute("DELETE FROM playlist WHERE owner_id = ? AND generated LIKE 'daily-mix-%' AND generated NOT IN "
                    f"({','.join('?' * len(keep)) or 'NULL'})", (user_id, *keep))
    found = discoveries(db, user_id, 50, now)
    cat = rec.candidates(db)
    friends = any(cat.source[cat.index[t]] != "local" for t in found if t in cat.index)
    ids.append(_upsert(db, user_id, "discoveries", "Discoveries from friends" if friends else "Discoveries",
                       "Never played by you", found))
    old = forgotten(db, user_id, 50, now)
    if old:
        ids.append(_upsert(db, user_id, "forgotten", "Forgotten favourites", "Loved once, not heard lately", old))
    refresh_smart(db, user_id, now)
    return ids


def users_due(db: Database, now: float, every_s: float = 86400) -> list[str]:
    """Users whose generated playlists are older than ``every_s`` (or who have none but have listened)."""
    return [r[0] for r in db.conn.execute(
        "SELECT u.id FROM user u WHERE EXISTS (SELECT 1 FROM listen_item li WHERE li.user_id = u.id AND li.plays > 0) "
        "AND coalesce((SELECT min(p.updated_at) FROM playlist p WHERE p.owner_id = u.id AND p.generated IN "
        "('discoveries', 'daily-mix-1')), 0) < ?", (now - every_s,))]


# -- radio ---------------------------------------------------------------------------------------------------
def radio_seeds(db: Database, kind: str, ident: str) -> list[str]:
    if kind == "track":
        browse.require_track(db, ident)
        return [ident]
    if kind == "album":
        ids = [t["id"] for t in browse.album_tracks(db, ident)]
    elif kind == "artist":
        ids = [r[0] for r in db.conn.execute(
            "SELECT DISTINCT ta.track_id FROM track_artist ta JOIN track t ON t.id = ta.track_id WHERE "
            f"ta.artist_id = ? AND ta.role IN ('artist', 'albumartist') AND {scope.sql('t.folder_id')} LIMIT 200",
            (ident,))]
    else:
        raise InvalidInput("radio starts from a track, album or artist")
    if not ids:
        raise NotFound(f"no {kind} {ident}")
    return ids


def radio_next(db: Database, user_id: str, seed_ids: list[str], served: list[str], count: int
               ) -> list[rec.Pick]:
    """The next ``count`` tracks of an endless radio: like the seeds, never one already served."""
    return rec.similar_to(db, seed_ids, count, user_id=user_id, exclude_ids=set(served))
