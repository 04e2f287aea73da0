"""The method table, the parsed call, and the one dispatcher every ``/rest/<method>`` goes through.

Each API-area module registers its handlers with ``@method("getAlbum")``; a
handler takes a :class:`Call` and returns a dict (the envelope's payload) or
a ready :class:`quart.Response` (streams, images). The dispatcher strips
``.view``, merges query and form parameters and tells handlers to answer a
POST as the GET it stands for (so GET and ``formPost`` give the same answer,
byte ranges included), authenticates, runs the handler, and turns *every* failure
into an envelope with HTTP 200 (429 when rate limited): unknown methods are error 70, never a 404.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from quart import Response, current_app, g, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException

from ...store import scope
from ...errors import Forbidden, InvalidInput, NodeError, NotFound
from .. import params
from ..errors import ApiError
from .envelope import (
    GENERIC,
    NOT_AUTHORISED,
    NOT_FOUND,
    WRONG_CREDENTIALS,
    SubsonicError,
    missing,
    render,
)

log = logging.getLogger(__name__)

Handler = Callable[["Call"], Awaitable[dict | Response]]


@dataclass(frozen=True)
class Method:
    name: str
    fn: Handler
    auth: bool


METHODS: dict[str, Method] = {}


def method(*names: str, auth: bool = True) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        for name in names:
            if name in METHODS:
                raise ValueError(f"Subsonic method {name} registered twice")
            METHODS[name] = Method(name, fn, auth)
        return fn

    return register


@dataclass
class Call:
    """One Subsonic call. ``http_method`` is what it stands for: GET for GET and form POST (formPost:
    a POST is answered like the same GET, Range and conditionals included), HEAD for HEAD."""

    params: MultiDict
    user: dict | None
    node: Any
    http_method: str = "GET"

    @property
    def store(self):
        return self.node.store

    @property
    def uid(self) -> str:
        assert self.user is not None
        return self.user["id"]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.params.get(name, default)

    def require(self, name: str) -> str:
        value = self.params.get(name)
        if value is None or value == "":
            raise missing(name)
        return value

    def all(self, name: str) -> list[str]:
        return [v for v in self.params.getlist(name) if v != ""]

    def int(self, name: str, default: int | None = None, lo: int = 0, hi: int = 10**9) -> int | None:
        """An integer, pulled into [lo, hi] (apps ask for ``size=1000`` and expect the most we give).

        A value that is not an integer is refused with error 0 (see :mod:`..params`).
        """
        return params.integer(self.params.get(name), name, lo, hi, default, clamp=True)

    def ints(self, name: str, lo: int = 0, hi: int = 10**9) -> list[int]:
        """Every value of a repeated integer parameter, each within [lo, hi] or refused."""
        return [params.integer(v, name, lo, hi) for v in self.all(name)]  # type: ignore[misc]

    def bool(self, name: str, default: bool = False) -> bool:
        return params.boolean(self.params.get(name), name, default)

    def times(self, name: str) -> list[float]:
        """Every value of a repeated time parameter (ms since the epoch), as seconds; refused if implausible."""
        return [params.timestamp_ms(v, name) for v in self.all(name)]  # type: ignore[misc]

    def client(self) -> str:
        return (self.params.get("c") or "unknown")[:100]


def server_version() -> str:
    try:
        return metadata.version("sonantica")
    except metadata.PackageNotFoundError:
        return "0.1.0"


async def _params() -> MultiDict:
    params = MultiDict(request.args)
    if request.method == "POST":
        form = await request.form
        for key, values in form.lists():
            for value in values:
                params.add(key, value)
    return params


async def dispatch(name: str) -> Response:
    params: MultiDict = MultiDict(request.args)
    version = server_version()
    try:
        params = await _params()
        if name.endswith(".view"):
            name = name[:-5]
        m = METHODS.get(name)
        if m is None:
            raise SubsonicError(NOT_FOUND, f"unknown or unimplemented method {name!r}")
        user = None
        if m.auth:
            from .auth import authenticate

            user = await authenticate(params)
            g.user = user
            scope.limit_to(scope.folders_of(user))
        node = current_app.node
        result = await m.fn(Call(params, user, node, "HEAD" if request.method == "HEAD" else "GET"))
        if isinstance(result, Response):
            return result
        return render(result, params.get("f"), params.get("callback"), True, version)
    except SubsonicError as exc:
        error = exc
    except NotFound as exc:
        error = SubsonicError(NOT_FOUND, str(exc))
    except Forbidden as exc:
        error = SubsonicError(NOT_AUTHORISED, str(exc))
    except InvalidInput as exc:
        error = SubsonicError(GENERIC, str(exc))
    except NodeError as exc:
        error = SubsonicError(GENERIC, str(exc))
    except ApiError as exc:
        code = {401: WRONG_CREDENTIALS, 403: NOT_AUTHORISED, 404: NOT_FOUND}.get(exc.status, GENERIC)
        error = SubsonicError(code, exc.message)
    except HTTPException as exc:
        error = SubsonicError(GENERIC, exc.description or exc.name)
    except Exception:
        log.exception("Subsonic %s failed", name)
        error = SubsonicError(GENERIC, "the node hit an unexpected error; see its log")
    resp = render(error.payload(), params.get("f"), params.get("callback"), False, version)
    resp.status_code = error.status
    resp.headers.update(error.headers)
    return resp


__all__ = ["Call", "METHODS", "dispatch", "method"]
