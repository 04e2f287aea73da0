"""Which music folders the caller may see, and the one SQL condition every library query uses.

A listener may be limited to some music folders (the node's own folders and the one folder per
federation member, ids from ``member_folder``). The API sets the caller's set once per request
(:func:`limit_to`, from :func:`folders_of` the signed-in user); every query of the library domains
(``browse``, ``subsonic_queries``, ``search``, ``plays``, ``analysis``, the analytics) builds its
``WHERE`` with :func:`sql` and hydrates ids through the scoped ``browse`` look-ups, so a new endpoint
inherits the rule without knowing about it.

The set lives in a context variable: trio copies the context into each task and into
``trio.to_thread.run_sync`` (where the store's reads run), so a request's queries see its own set and
nothing else. Outside a request (scans, analysis, gossip, the peer API, the CLI) it is ``None``:
everything, as those work for the node, not for a user.

``None`` means "no limit": the owner and admins always (as in Navidrome, admins see every library),
and listeners whose ``folders`` is unset. The condition is a literal ``folder_id IN (1, 2, …)`` over
integers (never user text), written ``+folder_id`` so that SQLite never picks the ``(folder_id, path)``
index for it but checks it on the rows it reads by the query's own index (id, sort key, FTS rowid);
with no limit it is the constant ``1`` and the plans are unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Folders = frozenset[int] | None

_VISIBLE: ContextVar[Folders] = ContextVar("sonantica_visible_folders", default=None)
UNLIMITED_ROLES = ("owner", "admin")


def visible() -> Folders:
    """The folder ids the current caller may see; None for every folder."""
    return _VISIBLE.get()


def limit_to(folders: Iterable[int] | None) -> None:
    """Limit the rest of this task (and the threads it starts) to ``folders`` (None: no limit)."""
    _VISIBLE.set(None if folders is None else frozenset(int(f) for f in folders))


@contextmanager
def only(folders: Iterable[int] | None) -> Iterator[None]:
    """:func:`limit_to` for a block (tests, and code acting for a user outside a request)."""
    token = _VISIBLE.set(None if folders is None else frozenset(int(f) for f in folders))
    try:
        yield
    finally:
        _VISIBLE.reset(token)


def sql(column: str = "folder_id") -> str:
    """``column IN (…)`` for the visible folders, ``1`` with no limit, ``0`` when none is visible."""
    folders = _VISIBLE.get()
    if folders is None:
        return "1"
    if not folders:
        return "0"
    # unary +: never an index on the folder (track's (folder_id, path)); the rows come by the query's
    # own key (id, sort order, FTS rowid) and the folder is checked on each
    return f"+{column} IN ({', '.join(str(int(f)) for f in sorted(folders))})"


def allows(folder_id: int | None) -> bool:
    folders = _VISIBLE.get()
    return folders is None or (folder_id is not None and int(folder_id) in folders)


def limited() -> bool:
    return _VISIBLE.get() is not None


def folders_of(user: dict | None) -> Folders:
    """What ``user`` may see: None (everything) for the owner, admins and unlimited listeners."""
    if user is None or user.get("role") in UNLIMITED_ROLES:
        return None
    chosen = user.get("folders")
    return None if chosen is None else frozenset(chosen)


def parse(stored: str | None) -> list[int] | None:
    """The ``user.folders`` column: NULL for every folder, else a JSON list of folder ids."""
    if stored is None:
        return None
    return sorted({int(f) for f in json.loads(stored)})


def dump(folders: Iterable[int] | None) -> str | None:
    return None if folders is None else json.dumps(sorted({int(f) for f in folders}))
