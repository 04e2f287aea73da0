"""Sonic similarity: nearest tracks and smooth paths by the sonic vector (features/sonic.py).

Theory of operation
-------------------
All current vectors are held in memory as one float32 matrix (44 numbers a
track: 17.6 MB for 100 000 tracks). Building it standardises every dimension
with the library's own mean and standard deviation (a floor per dimension,
``FLOORS``, keeps a tiny or uniform library from blowing noise up) and weighs
each group (timbre, rhythm, tonality, loudness) by 1 / sqrt(its size), so
every group adds on average the same to the squared distance between two
tracks (2 for a random pair) and none dominates because it has more numbers.

A query is one matrix-vector product (brute force: exact, and a few ms at
100k, see bench/similarity.py; einsum rather than BLAS, see ``distances2``) and a partial sort. The similarity reported is
``exp(-d² / (2 · groups))``: 1 for the same sound, about 0.37 for an average
pair of tracks of the library, towards 0 for the most different.

A path from A to B with ``count`` songs: the tracks whose distance to A plus
distance to B is smallest (an ellipse around the segment; ``PATH_POOL``) are
the candidates; ``count - 2`` waypoints evenly spaced on the segment A→B
each take the nearest unused candidate. Steps are therefore about |AB| /
(count - 1) and the path moves steadily from A's sound to B's.

:class:`IndexCache` keeps one index per store and rebuilds it when
:func:`index_stamp` changes (a vector added, recomputed or pruned, a track
removed, a member's catalogue record changed: generation counters kept by
triggers, two rows to read per query); the work runs in threads, never on the loop.

Members' recordings take part with the vectors their owners publish in the
signed catalogue (``sonic``, specs/protocol.md §5): a path may run through a
friend's music, which then plays through the usual verified multi-holder stream.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass

import numpy as np
import trio

from ..store import analysis as analysis_store
from ..store import peers as peers_store
from ..store import scope
from .features.sonic import DIMS, GROUPS, LAYOUT
from .versions import FEATURE_VERSIONS

VERSION = FEATURE_VERSIONS["sonic"]
PATH_POOL = 1000  # candidates a path is chosen from

_GROUP_NAMES = list(GROUPS)
_GROUP_OF = np.array([_GROUP_NAMES.index(group) for group, _ in LAYOUT])
_FLOOR_BY_NAME = {"log2_tempo_over_120": 0.05, "tempo_confidence": 0.05, "onset_strength": 0.01,
                  "onset_variation": 0.05, "mode": 0.1, "integrated_lufs": 1.0, "loudness_range_lu": 1.0,
                  "peak_to_loudness_db": 1.0}
FLOORS = np.array([_FLOOR_BY_NAME.get(name, 0.01 if group == "tonality" else 0.1) for group, name in LAYOUT])


@dataclass(frozen=True)
class Match:
    track_id: str
    similarity: float


class SonicIndex:
    """The standardised vectors of a library; pure and synchronous (call it from a thread)."""

    def __init__(self, ids: list[str], raw: np.ndarray, folders: list[int] | None = None) -> None:
        raw = np.asarray(raw, np.float64).reshape(len(ids), DIMS)
        self.ids = list(ids)
        self.folder = np.array(folders if folders is not None else [-1] * len(ids), np.int64)
        self._row = {track_id: i for i, track_id in enumerate(self.ids)}
        mean = raw.mean(axis=0) if len(ids) else np.zeros(DIMS)
        std = np.sqrt(raw.var(axis=0) + FLOORS ** 2) if len(ids) else FLOORS
        sizes = np.array([GROUPS[_GROUP_NAMES[g]] for g in _GROUP_OF])
        self._mean, self._scale = mean, 1.0 / (std * np.sqrt(sizes))
        self.z = ((raw - mean) * self._scale).astype(np.float32)
        self._norms = np.einsum("ij,ij->i", self.z, self.z)

    def __len__(self) -> int:
        return len(self.ids)

    def __contains__(self, track_id: str) -> bool:
        return track_id in self._row

    def standardise(self, vector: np.ndarray) -> np.ndarray:
        return ((np.asarray(vector, np.float64) - self._mean) * self._scale).astype(np.float32)

    def distances2(self, z: np.ndarray) -> np.ndarray:
        """Squared distance of every track to the standardised point ``z``.

        einsum, not ``@``: a matrix-vector product goes to a multithreaded BLAS
        whose threads fight the workers for the cores (p99 x5 on a busy machine).
        """
        out = np.einsum("ij,j->i", self.z, z)
        out *= -2.0
        out += self._norms
        out += float(np.dot(z, z))
        return np.maximum(out, 0.0, out=out)

    @staticmethod
    def similarity(d2: float) -> float:
        return round(math.exp(-float(d2) / (2 * len(GROUPS))), 4)

    def hidden(self, folders: frozenset[int] | None) -> np.ndarray | None:
        """Rows outside ``folders`` (store/scope.py), or None when nothing is hidden."""
        if folders is None:
            return None
        return ~np.isin(self.folder, np.array(sorted(folders), np.int64))

    def similar(self, track_id: str, count: int, hidden: np.ndarray | None = None) -> list[Match]:
        """The ``count`` nearest other tracks, nearest first (never one of ``hidden``)."""
        i = self._row[track_id]
        count = min(count, len(self) - 1)
        if count <= 0:
            return []
        d2 = self.distances2(self.z[i])
        d2[i] = np.inf
        if hidden is not None:
            d2[hidden] = np.inf
        best = np.argpartition(d2, count - 1)[:count] if count < len(d2) else np.arange(len(d2))
        best = best[np.lexsort((best, d2[best]))]  # by distance, ties by position: stable answers
        return [Match(self.ids[j], self.similarity(d2[j])) for j in best if np.isfinite(d2[j])]

    def path(self, start: str, end: str, count: int, hidden: np.ndarray | None = None) -> list[Match]:
        """``count`` songs (at most) from ``start`` to ``end``, each with its similarity to ``start``."""
        a, b = self._row[start], self._row[end]
        from_a = self.distances2(self.z[a])
        if a == b:
            return [Match(start, 1.0)]
        exclude = {a, b} | (set(np.nonzero(hidden)[0].tolist()) if hidden is not None else set())
        pool = self._pool(from_a, self.distances2(self.z[b]), exclude)
        steps = max(count, 2) - 1
        chosen: list[int] = []
        if steps > 1 and len(pool):
            t = (np.arange(1, steps) / steps)[:, None].astype(np.float32)
            points = self.z[a] + (self.z[b] - self.z[a]) * t  # the waypoints, (steps - 1, dims)
            cand = self.z[pool]
            d2 = (self._norms[pool][:, None] + np.einsum("ij,ij->i", points, points)[None, :]
                  - 2.0 * np.einsum("ij,kj->ik", cand, points))  # (pool, waypoints) in one pass
            for k in range(d2.shape[1]):
                pick = int(np.argmin(d2[:, k]))
                if not np.isfinite(d2[pick, k]):
                    break  # fewer candidates than waypoints
                chosen.append(int(pool[pick]))
                d2[pick, :] = np.inf
        return [Match(self.ids[j], self.similarity(from_a[j])) for j in (a, *chosen, b)]

    @staticmethod
    def _pool(from_a: np.ndarray, from_b: np.ndarray, exclude: set[int]) -> np.ndarray:
        around = np.sqrt(from_a) + np.sqrt(from_b)
        for i in exclude:
            around[i] = np.inf
        size = min(PATH_POOL, len(around) - len(exclude))
        if size <= 0:
            return np.zeros(0, np.int64)
        pool = np.argpartition(around, size - 1)[:size]
        return np.sort(pool[np.isfinite(around[pool])])


def index_stamp(db) -> tuple:
    """What the index depends on: the local vectors' generation and version, and the members' tracks'."""
    return (*analysis_store.vectors_stamp(db, VERSION), peers_store.sonic_stamp(db))


def load_index(db) -> tuple[tuple, SonicIndex]:
    """(stamp, index) of every current vector in the store, local and members' (runs in a store thread).

    Members' vectors come with their signed catalogue records (specs/protocol.md §5, ``sonic``);
    only those of the version computed here are comparable, and a recording held here counts once.
    """
    stamp = index_stamp(db)
    ids, data = analysis_store.vectors(db, VERSION, DIMS)
    remote_ids, remote_data = peers_store.sonic_vectors(db, VERSION, DIMS)
    folders = analysis_store.folders_of(db, ids) + peers_store.recording_folders(db, remote_ids)
    ids, data = ids + remote_ids, data + remote_data
    raw = np.frombuffer(data, dtype="<f4").reshape(len(ids), DIMS) if ids else np.zeros((0, DIMS), np.float32)
    return stamp, SonicIndex(ids, raw, folders)


class IndexCache:
    """One :class:`SonicIndex` per store, rebuilt when the store's vectors change."""

    def __init__(self) -> None:
        self._entries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # one per store: its own trio run

    async def get(self, store) -> SonicIndex:
        stamp = await store.read(index_stamp)
        entry = self._entries.get(store)
        if entry is not None and entry[0] == stamp:
            return entry[1]
        async with self._locks.setdefault(store, trio.Lock()):
            entry = self._entries.get(store)
            if entry is None or entry[0] != stamp:
                entry = await store.read(load_index)
                self._entries[store] = entry
        return entry[1]


CACHE = IndexCache()


class NotAnalysed(LookupError):
    """The track exists but has no current sonic vector yet."""


async def similar_tracks(store, track_id: str, count: int) -> list[Match]:
    """The nearest tracks to ``track_id``; raises NotAnalysed when it has no vector yet."""
    index = await CACHE.get(store)
    if track_id not in index:
        raise NotAnalysed(track_id)
    return await trio.to_thread.run_sync(index.similar, track_id, count, index.hidden(scope.visible()))


async def sonic_path(store, start: str, end: str, count: int) -> list[Match]:
    """A smooth path from ``start`` to ``end``; raises NotAnalysed naming the first without a vector."""
    index = await CACHE.get(store)
    for track_id in (start, end):
        if track_id not in index:
            raise NotAnalysed(track_id)
    return await trio.to_thread.run_sync(index.path, start, end, count, index.hidden(scope.visible()))
