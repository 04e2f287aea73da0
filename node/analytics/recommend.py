"""Recommendations: co-listening, content and tag similarity, freshness, diversity, and a reason for each.

Theory of operation
-------------------
:func:`candidates` is the one place candidates come from. It reads the local
library and, when the federation's ``remote_track`` table exists, every
member's catalogue, into a :class:`Catalogue` of numpy arrays (one slot per
candidate, each with its ``source``: ``"local"`` or the holder's name). It is
cached per database until the library changes.

A request is a set of weighted **seeds** (the user's plays with a recency
decay, or a radio's track/album/artist) scored against every candidate by
three signals, each scaled to [0, 1]:

- **co-listening** (item-item): the node's recent counted plays are cut into
  sessions (same user, gaps under 30 min); a candidate scores by how often it
  shares sessions with the seeds, divided by the square root of its own
  sessions so that popular tracks do not win by being everywhere;
- **content**: tempo (octave-tolerant), Camelot key compatibility and
  loudness against the closest seeds, when analysis has filled them;
- **tags**: the seeds' artists, genres and decades.

They blend (weights renormalised over the signals that have data, so a cold
start runs on content and tags alone), then **freshness** holds back what the
user played lately or keeps skipping, and a greedy pass keeps any artist from
taking more than its share of the list. Each pick keeps its dominant signal
to explain itself: "because you played X", "similar tempo and key to Y",
"you like Z", "from Ana's node".
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import time
from dataclasses import dataclass, field

import numpy as np

from ..store import annotations
from ..store import plays as ps
from ..store import scope
from ..store.db import Database

SESSION_GAP_S = 30 * 60
COLISTEN_PLAYS = 200_000
WEIGHTS = {"co": 0.45, "tag": 0.35, "content": 0.20}
HALF_LIFE_DAYS = 120.0
FRESH_DAYS = 21.0


@dataclass
class Catalogue:
    ids: list[str]
    index: dict[str, int]
    source: list[str]
    artist: np.ndarray  # int32 index into artist_ids
    artist_ids: list[str]
    album: np.ndarray
    year: np.ndarray  # float32, nan unknown
    bpm: np.ndarray
    camelot: np.ndarray  # int16: number*2 + (B: 1), -1 unknown
    loud: np.ndarray
    genre_pairs: tuple[np.ndarray, np.ndarray]  # (candidate idx, genre idx)
    primary_genre: np.ndarray  # int32, -1 none
    genres: list[str]
    titles: list[str]
    artist_names: list[str]
    remote: np.ndarray  # bool
    folder: np.ndarray  # int64 music folder id (a member's folder for its recordings)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class Colisten:
    session: np.ndarray
    item: np.ndarray
    session_len: np.ndarray
    item_sessions: np.ndarray


@dataclass
class Pick:
    id: str
    score: float
    source: str
    reasons: list[dict] = field(default_factory=list)


_lock = threading.Lock()
_catalogues: dict[str, tuple[tuple, Catalogue]] = {}
_colistens: dict[str, tuple[tuple, Colisten]] = {}


def _db_key(db: Database) -> str:
    return next((r[2] for r in db.conn.execute("PRAGMA database_list") if r[1] == "main"), "") or str(id(db))


def _has_table(db, name: str) -> bool:
    return db.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone() is not None


# -- candidates ----------------------------------------------------------------------------------
def candidates(db: Database) -> Catalogue:
    """Every track a user could be recommended: the local library plus federated catalogues.

    This is where the federation joins: rows of ``remote_track`` (a member's
    catalogue entry, held elsewhere) become candidates with ``source`` set to
    the member's name, so recommendations and "discoveries from friends" draw
    from the whole federation. A recording held locally appears once, as local.
    """
    key = _catalogue_version(db)
    path = _db_key(db)
    with _lock:
        hit = _catalogues.get(path)
        if hit and hit[0] == key:
            return hit[1]
    cat = _load_catalogue(db)
    with _lock:
        _catalogues[path] = (key, cat)
    return cat


def _catalogue_version(db) -> tuple:
    local = db.conn.execute("SELECT count(*), max(rid), max(updated_at) FROM track").fetchone()
    analysed = ()
    if _has_table(db, "analysis"):
        analysed = db.conn.execute("SELECT max(computed_at) FROM analysis WHERE feature = 'key'").fetchone()
    remote = ()
    if _has_table(db, "remote_track"):
        try:
            remote = db.conn.execute("SELECT count(*), max(updated_at) FROM remote_track").fetchone()
        except sqlite3.OperationalError:
            remote = ()
    return (tuple(local), tuple(analysed), tuple(remote))


def _load_catalogue(db) -> Catalogue:
    rows = db.conn.execute(
        "SELECT id, artist_id, album_id, year, bpm, rg_track_gain, title, artist, audio_id, folder_id FROM track").fetchall()
    sources = ["local"] * len(rows)
    genres_of = {}
    for tid, g in db.conn.execute(
            "SELECT tg.track_id, g.name FROM track_genre tg JOIN genre g ON g.id = tg.genre_id ORDER BY tg.pos"):
        genres_of.setdefault(tid, []).append(g)
    rows, sources = _with_remote(db, rows, sources, genres_of)
    n = len(rows)
    ids = [r[0] for r in rows]
    artist_ids: dict[str, int] = {}
    artist_names: list[str] = []
    artist = np.empty(n, np.int32)
    album_ids: dict[str, int] = {}
    album = np.empty(n, np.int32)
    for i, r in enumerate(rows):
        a = r[1] or r[7]
        if a not in artist_ids:
            artist_ids[a] = len(artist_ids)
            artist_names.append(r[7])
        artist[i] = artist_ids[a]
        album[i] = album_ids.setdefault(r[2], len(album_ids))
    year = np.array([r[3] if r[3] else np.nan for r in rows], np.float32)
    bpm = np.array([r[4] if r[4] else np.nan for r in rows], np.float32)
    loud = np.array([r[5] if r[5] is not None else np.nan for r in rows], np.float32)
    index = {t: i for i, t in enumerate(ids)}
    camelot = np.full(n, -1, np.int16)
    for tid, code in _camelots(db):
        i = index.get(tid)
        if i is not None:
            camelot[i] = code
    genre_names: dict[str, int] = {}
    gi, gg = [], []
    primary = np.full(n, -1, np.int32)
    for i, tid in enumerate(ids):
        for pos, g in enumerate(genres_of.get(tid, ())):
            k = genre_names.setdefault(g.lower(), len(genre_names))
            gi.append(i)
            gg.append(k)
            if pos == 0:
                primary[i] = k
    return Catalogue(ids, index, sources, artist, list(artist_ids), album, year, bpm, camelot, loud,
                     (np.array(gi, np.int32), np.array(gg, np.int32)), primary,
                     [g for g, _ in sorted(genre_names.items(), key=lambda kv: kv[1])],
                     [r[6] for r in rows], artist_names, np.array([s != "local" for s in sources]),
                     np.array([r[9] if r[9] is not None else -1 for r in rows], np.int64))


def visible_mask(cat: Catalogue) -> np.ndarray | None:
    """Which candidates the caller may see (store/scope.py); None when nothing is hidden."""
    folders = scope.visible()
    if folders is None:
        return None
    return np.isin(cat.folder, np.array(sorted(folders), np.int64))


def _visible_seeds(cat: Catalogue, seeds: dict[int, float], mask: np.ndarray | None) -> dict[int, float]:
    """Seeds the caller may see: a reason never names a track of a hidden folder."""
    return seeds if mask is None else {i: w for i, w in seeds.items() if mask[i]}


def _with_remote(db, rows, sources, genres_of):
    if not _has_table(db, "remote_track"):
        return rows, sources
    try:
        names = dict(db.conn.execute("SELECT node, coalesce(name, substr(node, 1, 8)) FROM peer").fetchall()) \
            if _has_table(db, "peer") else {}
        local_audio = {r[8] for r in rows if r[8]}
        seen = set()
        remote = db.conn.execute(
            "SELECT id, artist_id, album_id, year, bpm, rg_track_gain, title, artist, audio_id, folder_id, log, tags "
            "FROM remote_track ORDER BY primary_holder DESC").fetchall()
    except sqlite3.OperationalError:
        return rows, sources
    rows = list(rows)
    for r in remote:
        if (r[8] and r[8] in local_audio) or r[0] in seen:
            continue
        seen.add(r[0])
        rows.append(r[:10])
        sources.append(names.get(r[10], str(r[10])[:8]))
        try:
            genres_of[r[0]] = list(json.loads(r[11] or "{}").get("genres", []))
        except (ValueError, AttributeError):
            pass
    return rows, sources


def _camelots(db):
    if not _has_table(db, "analysis"):
        return []
    out = []
    for tid, result in db.conn.execute("SELECT track_id, result FROM analysis WHERE feature = 'key'"):
        try:
            code = json.loads(result).get("camelot")
        except ValueError:
            continue
        if code and code[:-1].isdigit() and code[-1] in "AB":
            out.append((tid, int(code[:-1]) * 2 + (code[-1] == "B")))
    return out


# -- co-listening --------------------------------------------------------------------------------------
def colisten(db: Database, cat: Catalogue) -> Colisten:
    key = (db.conn.execute("SELECT max(id), count(*) FROM play").fetchone(), len(cat))
    path = _db_key(db)
    with _lock:
        hit = _colistens.get(path)
        if hit and hit[0] == key:
            return hit[1]
    rows = ps.recent_counted(db, COLISTEN_PLAYS)
    sess, items = [], []
    last_user, last_at, s = None, 0.0, -1
    for user, track, at in sorted(rows, key=lambda r: (r[0], r[2])):
        i = cat.index.get(track)
        if i is None:
            continue
        if user != last_user or at - last_at > SESSION_GAP_S:
            s += 1
        last_user, last_at = user, at
        sess.append(s)
        items.append(i)
    pairs = np.unique(np.array([sess, items], np.int64).reshape(2, -1), axis=1) if sess else np.zeros((2, 0), np.int64)
    session, item = pairs[0].astype(np.int32), pairs[1].astype(np.int32)
    co = Colisten(session, item, np.bincount(session, minlength=s + 1).astype(np.float32),
                  np.bincount(item, minlength=len(cat)).astype(np.float32))
    with _lock:
        _colistens[path] = (key, co)
    return co


def co_scores(co: Colisten, seedw: np.ndarray) -> np.ndarray:
    if co.item.size == 0:
        return np.zeros_like(seedw)
    per_session = np.bincount(co.session, weights=seedw[co.item], minlength=co.session_len.size)
    spread = per_session[co.session] / np.maximum(co.session_len[co.session] - 1, 1)
    scores = np.bincount(co.item, weights=spread, minlength=seedw.size)
    scores -= seedw * (co.item_sessions > 0) / np.maximum(co.session_len.mean(), 1)  # not self-similar
    return np.maximum(scores, 0) / np.sqrt(np.maximum(co.item_sessions, 1))


# -- content and tags -----------------------------------------------------------------------------------
def _camelot_sim(a: np.ndarray, b: int) -> np.ndarray:
    if b < 0:
        return np.full(a.shape, 0.5, np.float32)
    num_a, mode_a, num_b, mode_b = a // 2, a % 2, b // 2, b % 2
    step = np.minimum((num_a - num_b) % 12, (num_b - num_a) % 12)
    sim = np.where((step == 0) & (mode_a == mode_b), 1.0,
                   np.where(((step == 1) & (mode_a == mode_b)) | ((step == 0) & (mode_a != mode_b)), 0.8, 0.3))
    return np.where(a < 0, 0.5, sim).astype(np.float32)


def content_scores(cat: Catalogue, seeds: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(best similarity, index of the closest seed) over the seeds that have a tempo."""
    best = np.zeros(len(cat), np.float32)
    who = np.full(len(cat), -1, np.int32)
    for s in seeds:
        if not np.isfinite(cat.bpm[s]):
            continue
        x = np.abs(np.log2(cat.bpm / cat.bpm[s]))
        x = np.minimum(x % 1.0, 1.0 - x % 1.0)
        sim = np.exp(-((x / 0.04) ** 2))
        sim *= 0.5 + 0.5 * _camelot_sim(cat.camelot, int(cat.camelot[s]))
        if np.isfinite(cat.loud[s]):
            sim *= np.where(np.isfinite(cat.loud), 0.6 + 0.4 * np.exp(-(((cat.loud - cat.loud[s]) / 4.0) ** 2)), 0.8)
        sim = np.nan_to_num(sim, nan=0.0).astype(np.float32)
        better = sim > best
        best = np.where(better, sim, best)
        who = np.where(better, s, who)
    return best, who


@dataclass
class Profile:
    seedw: np.ndarray  # per candidate
    artist_aff: np.ndarray
    genre_aff: np.ndarray
    year_mean: float
    year_std: float


def profile(cat: Catalogue, weights: dict[int, float]) -> Profile:
    seedw = np.zeros(len(cat), np.float32)
    for i, w in weights.items():
        seedw[i] = w
    artist_aff = np.bincount(cat.artist, weights=seedw, minlength=len(cat.artist_ids)).astype(np.float32)
    gi, gg = cat.genre_pairs
    genre_aff = np.bincount(gg, weights=seedw[gi], minlength=len(cat.genres)).astype(np.float32)
    for arr in (artist_aff, genre_aff):
        if arr.size and arr.max() > 0:
            arr /= arr.max()
    years = cat.year[seedw > 0]
    w = seedw[seedw > 0]
    ok = np.isfinite(years)
    if ok.any():
        mean = float(np.average(years[ok], weights=w[ok]))
        std = float(math.sqrt(np.average((years[ok] - mean) ** 2, weights=w[ok]))) + 5.0
    else:
        mean, std = float("nan"), 10.0
    return Profile(seedw, artist_aff, genre_aff, mean, std)


def tag_scores(cat: Catalogue, prof: Profile) -> np.ndarray:
    gi, gg = cat.genre_pairs
    genre = np.bincount(gi, weights=prof.genre_aff[gg], minlength=len(cat))
    count = np.maximum(np.bincount(gi, minlength=len(cat)), 1)
    score = 0.5 * prof.artist_aff[cat.artist] + 0.35 * genre / count
    if math.isfinite(prof.year_mean):
        score += 0.15 * np.nan_to_num(np.exp(-(((cat.year - prof.year_mean) / prof.year_std) ** 2)), nan=0.0)
    return score.astype(np.float32)


def _scaled(x: np.ndarray) -> np.ndarray:
    m = float(x.max()) if x.size else 0.0
    return x / m if m > 0 else x


# -- the user's view --------------------------------------------------------------------------------------
@dataclass
class UserState:
    weights: dict[int, float]  # seed candidate index → weight
    last_at: np.ndarray  # per candidate, 0 never
    plays: np.ndarray
    skips: np.ndarray
    touched: np.ndarray  # bool: ever started (played, skipped or listened to)


def user_state(db: Database, cat: Catalogue, user_id: str, now: float) -> UserState:
    n = len(cat)
    last, plays, skips = np.zeros(n), np.zeros(n, np.float32), np.zeros(n, np.float32)
    touched = np.zeros(n, bool)
    weights: dict[int, float] = {}
    mask = visible_mask(cat)  # taste is read from what the caller may see (store/scope.py)
    for item, p, s, last_at in ps.listen_items(db, user_id, "track"):
        i = cat.index.get(item)
        if i is None or (mask is not None and not mask[i]):
            continue
        touched[i] = True
        plays[i], skips[i], last[i] = p, s, last_at
        if p > 0:
            age_days = max(0.0, (now - last_at) / 86400)
            w = math.log1p(p) * 0.5 ** (age_days / HALF_LIFE_DAYS) * 0.8 ** s
            weights[i] = w
    for tid in annotations.starred(db, user_id, "track"):
        i = cat.index.get(tid)
        if i is not None and (mask is None or mask[i]):
            weights[i] = weights.get(i, 0.0) + 1.0
    return UserState(weights, last, plays, skips, touched)


def top_seeds(weights: dict[int, float], k: int) -> dict[int, float]:
    return dict(sorted(weights.items(), key=lambda kv: -kv[1])[:k])


# -- scoring and picking -----------------------------------------------------------------------------------
@dataclass
class Scored:
    total: np.ndarray
    co: np.ndarray
    tag: np.ndarray
    content: np.ndarray
    content_seed: np.ndarray
    prof: Profile
    colisten: Colisten


def score(db, cat: Catalogue, seeds: dict[int, float], content_seeds: int = 20) -> Scored:
    prof = profile(cat, seeds)
    co_model = colisten(db, cat)
    co = _scaled(co_scores(co_model, prof.seedw).astype(np.float32))
    tag = _scaled(tag_scores(cat, prof))
    top = list(top_seeds(seeds, content_seeds))
    content, who = content_scores(cat, top)
    parts = {"co": co, "tag": tag, "content": content}
    have = {k: v for k, v in parts.items() if v.size and float(v.max()) > 0}
    norm = sum(WEIGHTS[k] for k in have) or 1.0
    total = sum((WEIGHTS[k] / norm) * v for k, v in have.items()) if have else np.zeros(len(cat), np.float32)
    return Scored(np.asarray(total, np.float32), co, tag, content, who, prof, co_model)


def freshness(state: UserState, now: float) -> np.ndarray:
    days = np.clip(np.where(state.last_at > 0, (now - state.last_at) / 86400.0, 1e4), 0, 1e4)
    return ((1.0 - np.exp(-days / FRESH_DAYS)) * 0.7 ** state.skips).astype(np.float32)


def diverse(order: np.ndarray, cat: Catalogue, count: int, max_per_artist: int | None = None,
            max_per_album: int = 3) -> list[int]:
    """Greedy: best first, but no artist beyond ``max_per_artist`` (default a tenth of the list, at least 2)."""
    cap = max_per_artist or max(2, count // 10)
    per_artist: dict[int, int] = {}
    per_album: dict[int, int] = {}
    out: list[int] = []
    for i in order:
        a, al = int(cat.artist[i]), int(cat.album[i])
        if per_artist.get(a, 0) >= cap or per_album.get(al, 0) >= max_per_album:
            continue
        per_artist[a] = per_artist.get(a, 0) + 1
        per_album[al] = per_album.get(al, 0) + 1
        out.append(int(i))
        if len(out) >= count:
            break
    return out


def explain(cat: Catalogue, sc: Scored, i: int, seeds: dict[int, float]) -> list[dict]:
    reasons = []
    parts = {"co": WEIGHTS["co"] * sc.co[i], "content": WEIGHTS["content"] * sc.content[i],
             "tag": WEIGHTS["tag"] * sc.tag[i]}
    kind = max(parts, key=parts.get)
    if parts[kind] <= 0:
        kind = "popular"
    if kind == "co":
        seed = _co_seed(sc.colisten, i, sc.prof.seedw)
        if seed is not None:
            reasons.append({"kind": "co_listened", "track_id": cat.ids[seed], "title": cat.titles[seed],
                            "artist": cat.artist_names[cat.artist[seed]],
                            "text": f"because you played {cat.titles[seed]} by {cat.artist_names[cat.artist[seed]]}"})
    elif kind == "content" and sc.content_seed[i] >= 0:
        s = int(sc.content_seed[i])
        reasons.append({"kind": "similar_sound", "track_id": cat.ids[s], "title": cat.titles[s],
                        "text": f"similar tempo and key to {cat.titles[s]}"})
    if kind == "tag" or not reasons:
        a = int(cat.artist[i])
        if sc.prof.artist_aff[a] >= 0.3:
            reasons.append({"kind": "artist", "artist_id": cat.artist_ids[a], "artist": cat.artist_names[a],
                            "text": f"you like {cat.artist_names[a]}"})
        elif cat.primary_genre[i] >= 0:
            reasons.append({"kind": "genre", "genre": cat.genres[cat.primary_genre[i]],
                            "text": f"more {cat.genres[cat.primary_genre[i]]}"})
        else:
            reasons.append({"kind": "popular", "text": "popular on this node"})
    if cat.remote[i]:
        reasons.append({"kind": "federation", "source": cat.source[i], "text": f"from {cat.source[i]}'s node"})
    return reasons


def _co_seed(co: Colisten, i: int, seedw: np.ndarray) -> int | None:
    sessions = co.session[co.item == i]
    if sessions.size == 0:
        return None
    mask = np.isin(co.session, sessions) & (co.item != i)
    items = co.item[mask]
    if items.size == 0:
        return None
    votes = np.bincount(items, weights=seedw[items], minlength=seedw.size)
    best = int(votes.argmax())
    return best if votes[best] > 0 else None


def recommend(db: Database, user_id: str, count: int = 20, *, now: float | None = None,
              exclude_played: bool = False, seeds: dict[int, float] | None = None,
              exclude: set[int] | None = None, cat: Catalogue | None = None) -> list[Pick]:
    """The user's best next tracks, with reasons; ``exclude_played`` keeps to tracks never started."""
    now = time.time() if now is None else now
    cat = cat or candidates(db)
    if not len(cat):
        return []
    state = user_state(db, cat, user_id, now)
    mask = visible_mask(cat)
    seeds = _visible_seeds(cat, seeds if seeds is not None else top_seeds(state.weights, 300), mask)
    if seeds:
        sc = score(db, cat, seeds)
        total = sc.total * freshness(state, now)
    else:
        sc = _cold(db, cat)
        total = sc.total
    total = total.copy()
    if exclude_played:
        total[state.touched] = -1
    if exclude:
        total[list(exclude)] = -1
    if mask is not None:
        total[~mask] = -1
    order = np.argsort(-total, kind="stable")
    order = order[total[order] > 0] if (total > 0).any() else order[total[order] >= 0]
    picks = diverse(order[: count * 20], cat, count)
    return [Pick(cat.ids[i], float(total[i]), cat.source[i], explain(cat, sc, i, seeds or {})) for i in picks]


def _cold(db, cat: Catalogue) -> Scored:
    """No history, no stars: the node's popular tracks, then a spread over the catalogue."""
    pop = np.zeros(len(cat), np.float32)
    for item, plays in ps.item_popularity(db, "track"):
        i = cat.index.get(item)
        if i is not None:
            pop[i] = plays
    rng = np.random.default_rng(int(time.time() // 86400))
    total = _scaled(pop) + 0.01 * rng.random(len(cat), dtype=np.float32)
    z = np.zeros(len(cat), np.float32)
    return Scored(total, z, z, z, np.full(len(cat), -1, np.int32), profile(cat, {}), colisten(db, cat))


def popular(db: Database, count: int, exclude: set[str] = frozenset()) -> list[str]:
    """The node's most played tracks (all users): the baseline recommendations are measured against."""
    rows = sorted(ps.item_popularity(db, "track"), key=lambda r: -r[1])
    return [r[0] for r in rows if r[0] not in exclude][:count]


def similar_to(db: Database, seed_ids: list[str], count: int, *, user_id: str | None = None,
               exclude_ids: set[str] = frozenset(), now: float | None = None) -> list[Pick]:
    """Tracks like the given ones (radio, getSimilarSongs); lightly personalised when ``user_id`` is given."""
    cat = candidates(db)
    mask = visible_mask(cat)
    seeds = _visible_seeds(cat, {cat.index[t]: 1.0 for t in seed_ids if t in cat.index}, mask)
    if not seeds:
        return []
    exclude = {cat.index[t] for t in (*seed_ids, *exclude_ids) if t in cat.index}
    sc = score(db, cat, seeds)
    total = sc.total.copy()
    if user_id:
        state = user_state(db, cat, user_id, time.time() if now is None else now)
        if state.weights:
            total = total * (0.85 + 0.15 * _scaled(tag_scores(cat, profile(cat, top_seeds(state.weights, 200)))))
    total[list(exclude)] = -1
    if mask is not None:
        total[~mask] = -1
    order = np.argsort(-total, kind="stable")
    order = order[total[order] > 0]
    picks = diverse(order[: count * 20], cat, count, max_per_artist=max(3, count // 4))
    return [Pick(cat.ids[i], float(total[i]), cat.source[i], explain(cat, sc, i, seeds)) for i in picks]


def similar_artists(db: Database, artist_id: str, count: int) -> list[tuple[str, str, float]]:
    """(artist id, name, score) of artists whose tracks are most like this artist's."""
    cat = candidates(db)
    try:
        a = cat.artist_ids.index(artist_id)
    except ValueError:
        return []
    mask = visible_mask(cat)
    seeds = _visible_seeds(cat, {int(i): 1.0 for i in np.nonzero(cat.artist == a)[0][:200]}, mask)
    if not seeds:
        return []
    sc = score(db, cat, seeds)
    total = sc.total if mask is None else np.where(mask, sc.total, -1).astype(np.float32)
    per_artist = np.full(len(cat.artist_ids), -1, np.float32)
    np.maximum.at(per_artist, cat.artist, total)
    per_artist[a] = -1
    order = np.argsort(-per_artist)[:count]
    return [(cat.artist_ids[i], cat.artist_names[i], float(per_artist[i])) for i in order if per_artist[i] > 0]


def picks_json(picks: list[Pick]) -> list[dict]:
    return [{"id": p.id, "score": round(p.score, 4), "source": p.source, "reasons": p.reasons} for p in picks]
