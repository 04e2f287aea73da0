"""The one error shape of the native API, and the mapping of every error to it.

``{"error": {"status": 404, "code": "not_found", "message": "no track tr-…"}}``
— ``code`` is stable (clients switch on it), ``message`` is for people.
"""

from __future__ import annotations

from ..errors import Conflict, Forbidden, InvalidInput, NodeError, NodeIsRunning, NotFound


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": {"status": self.status, "code": self.code, "message": self.message}}


def unauthorized(message: str = "sign in first (session cookie, bearer token or API key)") -> ApiError:
    return ApiError(401, "unauthorized", message)


def forbidden(message: str = "your role does not allow this") -> ApiError:
    return ApiError(403, "forbidden", message)


def bad_request(message: str) -> ApiError:
    return ApiError(400, "invalid_input", message)


def from_node_error(exc: NodeError) -> ApiError:
    from ..federation.errors import PeerRejected, PeerUnavailable, TransferFailed
    from ..federation.invites import FederationCommandError

    if isinstance(exc, FederationCommandError):
        return ApiError(409, "federation", str(exc))
    if isinstance(exc, (PeerUnavailable, TransferFailed)):
        return ApiError(503, "source_unavailable", str(exc), {"Retry-After": "10"})
    if isinstance(exc, PeerRejected):
        return ApiError(502, "peer_refused", str(exc))
    if isinstance(exc, Forbidden):
        return ApiError(403, "forbidden", str(exc))
    if isinstance(exc, NotFound):
        return ApiError(404, "not_found", str(exc))
    if isinstance(exc, Conflict):
        return ApiError(409, "conflict", str(exc))
    if isinstance(exc, InvalidInput):
        return ApiError(400, "invalid_input", str(exc))
    if isinstance(exc, NodeIsRunning):
        return ApiError(409, "conflict", str(exc))
    return ApiError(500, "node_error", str(exc))


HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    406: "not_acceptable", 409: "conflict", 411: "length_required", 413: "too_large", 415: "unsupported_media_type",
    416: "range_not_satisfiable", 429: "rate_limited", 500: "internal_error", 503: "unavailable",
}
