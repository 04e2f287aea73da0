"""Who may call a route: every route declares it, and undeclared routes are refused.

``@access(USER)`` on a view sets the level; the app's ``before_request`` hook
resolves the caller and enforces it. Deny by default means a route added
without thinking about access fails closed (and a test walks the route map).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

PUBLIC = "public"   # anyone, signed in or not
USER = "user"       # any signed-in user
ADMIN = "admin"     # owner or admin
OWNER = "owner"     # the owner only
PEER = "peer"       # another node of the federation (signed request)
SUBSONIC = "subsonic"  # checks its own credentials, answers in its own envelope

LEVELS = (PUBLIC, USER, ADMIN, OWNER, PEER, SUBSONIC)
RANK = {"listener": 1, "admin": 2, "owner": 3}
NEEDED = {USER: 1, ADMIN: 2, OWNER: 3}

F = TypeVar("F", bound=Callable)


def access(level: str) -> Callable[[F], F]:
    if level not in LEVELS:
        raise ValueError(f"unknown access level {level!r}")

    def mark(fn: F) -> F:
        fn._access = level  # type: ignore[attr-defined]
        return fn

    return mark


def level_of(view: Callable | None) -> str | None:
    return getattr(view, "_access", None)


def allowed(user: dict | None, level: str) -> bool:
    if level in (PUBLIC, PEER, SUBSONIC):
        return True
    if user is None:
        return False
    return RANK.get(user["role"], 0) >= NEEDED[level]
