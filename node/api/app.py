"""The node's HTTP application (quart-trio): one error handler, one error shape, access on every route.

Blueprints, one per API area, are registered here; each view declares its
access level (see :mod:`.access`). ``before_request`` resolves the caller
(session cookie, bearer token or API key) and enforces the level;
``after_request`` adds the security headers and, for configured origins only,
CORS. The ASGI app is wrapped by :func:`.keepalive.complete_body_first`, so an
answer given before the request body is in never wedges the connection.
"""

from __future__ import annotations

import json
import logging
import secrets
from typing import Any

from quart import Response, g, jsonify, request
from quart_trio import QuartTrio
from werkzeug.exceptions import HTTPException

from ..errors import NodeError
from ..store import scope
from ..store import users as users_store
from . import access as acc
from . import openapi, params
from .errors import HTTP_CODES, ApiError, forbidden, from_node_error, unauthorized
from .keepalive import complete_body_first
from .ratelimit import LoginGuard, client_address

log = logging.getLogger(__name__)

SESSION_COOKIE = "sonantica_session"
MAX_BODY = 32 * 1024 * 1024

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
CSP = (
    "default-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; worker-src 'self'; manifest-src 'self'; frame-ancestors 'none'; "
    "base-uri 'self'; form-action 'self'"
)


def create_app(node: Any) -> QuartTrio:
    app = QuartTrio(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY
    app.config["RESPONSE_TIMEOUT"] = None  # streams last as long as the song
    app.config["BODY_TIMEOUT"] = 120
    app.node = node  # type: ignore[attr-defined]
    app.login_guard = LoginGuard()  # type: ignore[attr-defined]
    app.setup_token = secrets.token_urlsafe(16)  # type: ignore[attr-defined]

    from . import (analysis_api, analytics_api, bookmarks, events, federation_api, images, library, metadata_api,
                   playlists, podcasts, streams, users, web)
    from . import radio, share_page, shares
    from .subsonic import bp as subsonic_bp

    # the peer API is an app of its own, on --peer-bind (see .peer and .server)
    for bp in (users.bp, library.bp, playlists.bp, streams.bp, events.bp, web.bp, subsonic_bp,
               federation_api.bp, analysis_api.bp, analytics_api.bp, bookmarks.bp, podcasts.bp,
               shares.bp, share_page.bp, images.bp, metadata_api.bp,
               radio.bp):
        app.register_blueprint(bp)

    app.asgi_app = complete_body_first(app.asgi_app)  # early answers must not wedge keep-alive connections
    app.before_request(_authorise)
    app.after_request(_headers)
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(NodeError, lambda exc: _api_error(from_node_error(exc)))
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
    return app


async def resolve_user() -> dict | None:
    """The caller named by the credentials the request carries, or None.

    Every credential presented (bearer token, ``X-Api-Key``, session cookie)
    must be valid and name the same user: a request carrying a good API key
    beside a stale or forged session cookie is refused (:class:`BadCredentials`),
    not answered as the key's owner while the bad one is silently ignored.
    """
    from quart import current_app

    from . import proxyauth

    store = current_app.node.store
    try:  # a trusted sign-in proxy's header, when set up, alone says who calls (docs/proxy-login.md)
        proxied = await proxyauth.proxy_user()
    except proxyauth.ProxyUserRefused as exc:
        raise BadCredentials(str(exc)) from None
    if proxied is not None:
        return proxied
    header = request.headers.get("Authorization", "")
    presented = []
    scheme, _, credential = header.strip().partition(" ")
    if scheme.lower() == "bearer":  # an empty one too
        presented.append(credential.strip())
    elif "Authorization" in request.headers and scheme.lower() != "basic":  # Basic: a reverse proxy's, ignored
        raise BadCredentials("the Authorization header must be 'Bearer <session token or API key>'")
    for token in (request.headers.get("X-Api-Key"), request.cookies.get(SESSION_COOKIE)):
        if token is not None:
            presented.append(token)
    users = []
    for token in presented:
        user = None
        if token and len(token) <= 200:
            if token.startswith("son_"):
                user = await store.write(users_store.user_for_api_key, token)
            else:
                user = await store.read(users_store.user_for_session, token)
        if user is None:
            raise BadCredentials("a credential of this request is not valid (expired, revoked or mistyped)")
        users.append(user)
    if len({u["id"] for u in users}) > 1:
        raise BadCredentials("the credentials of this request name different users")
    return users[0] if users else None


class BadCredentials(Exception):
    """A credential presented is invalid: 401 on routes that need a user, anonymous on public ones."""


async def _authorise() -> Response | None:
    from quart import current_app

    g.user = None
    scope.limit_to(None)  # set again below for a signed-in listener limited to some folders
    if request.method == "OPTIONS":
        return _preflight()
    view = current_app.view_functions.get(request.endpoint or "")
    level = acc.level_of(view)
    if view is None:
        return None  # 404/405 follow
    if level is None:
        raise forbidden("this route declares no access level")
    if level in (acc.SUBSONIC, acc.PEER):
        return None
    try:
        g.user = await resolve_user()
    except BadCredentials as exc:
        if level == acc.PUBLIC:  # a stale cookie must not stop anyone signing in again
            return None
        raise unauthorized(str(exc)) from None
    scope.limit_to(scope.folders_of(g.user))
    if level == acc.PUBLIC:
        return None
    if g.user is None:
        raise unauthorized()
    if not acc.allowed(g.user, level):
        raise forbidden(f"this needs the {level} role")
    return None


def _cors_origin() -> str | None:
    from quart import current_app

    origin = request.headers.get("Origin")
    allowed = current_app.node.config.cors_origins
    if origin and (origin in allowed or "*" in allowed):
        return origin
    return None


def _preflight() -> Response:
    origin = _cors_origin()
    resp = Response("", status=204)
    if origin:
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Access-Control-Allow-Credentials"] = "true"
        resp.headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
        resp.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, Range, X-Api-Key"
        resp.headers["Access-Control-Max-Age"] = "600"
        resp.headers["Vary"] = "Origin"
    return resp


async def _headers(resp: Response) -> Response:
    if resp.status_code in (204, 304):  # no body, so no content type (Quart would say text/html)
        resp.headers.pop("Content-Type", None)
    for key, value in SECURITY_HEADERS.items():
        resp.headers.setdefault(key, value)
    if (resp.mimetype or "").startswith("text/html"):
        resp.headers.setdefault("Content-Security-Policy", CSP)
    origin = _cors_origin()
    if origin:
        resp.headers["Access-Control-Allow-Origin"] = origin
        resp.headers["Access-Control-Allow-Credentials"] = "true"
        resp.headers["Access-Control-Expose-Headers"] = "Content-Range, Content-Length, ETag, Accept-Ranges"
        resp.headers.add("Vary", "Origin")
    return resp


def _api_error(exc: ApiError) -> Response:
    resp = jsonify(exc.body())
    resp.status_code = exc.status
    for key, value in exc.headers.items():
        resp.headers[key] = value
    return resp


def _http_error(exc: HTTPException) -> Response:
    status = exc.code or 500
    resp = _api_error(ApiError(status, HTTP_CODES.get(status, "http_error"), exc.description or exc.name))
    if status == 405 and getattr(exc, "valid_methods", None):
        resp.headers["Allow"] = ", ".join(exc.valid_methods)
    return resp


def _unexpected(exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.path, exc_info=exc)
    return _api_error(ApiError(500, "internal_error", "the node hit an unexpected error; see its log"))


async def json_body(*required: str, optional: bool = False) -> dict:
    """The request's JSON object (``optional``: an empty body is ``{}``), with the ``required`` keys."""
    try:  # not request.get_json: it raises on bytes that are not UTF-8 (a 500) instead of answering None
        raw = await request.get_data(as_text=False)
        data = {} if optional and not raw.strip() else json.loads(raw)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_input", "send a JSON object (Content-Type: application/json)")
    missing = [k for k in required if k not in data]
    if missing:
        raise ApiError(400, "invalid_input", f"missing field(s): {', '.join(missing)}")
    schema = openapi.body_schema(request.endpoint or "", request.method)
    if schema is not None:
        params.check_json(data, schema)
    return data


def query_int(name: str, default: int | None = None, lo: int = 0, hi: int = 10**9) -> int | None:
    """An integer query parameter within [lo, hi], or a 400 in the one error shape (see :mod:`.params`)."""
    return params.integer(request.args.get(name), name, lo, hi, default)


def query_bool(name: str, default: bool | None = None) -> bool | None:
    """A boolean query parameter (true/false, 1/0, yes/no, on/off), or a 400 in the one error shape."""
    if request.args.get(name) in (None, ""):
        return default
    return params.boolean(request.args.get(name), name)


def request_address() -> str:
    """The client's address for throttling: the TCP peer, or what a configured trusted proxy says."""
    from quart import current_app

    return client_address(request.remote_addr or "?", request.headers.getlist("X-Forwarded-For"),
                          current_app.node.config.trusted_proxies)


def current_user() -> dict:
    if g.user is None:
        raise unauthorized()
    return g.user
