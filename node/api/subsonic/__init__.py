"""The Subsonic/OpenSubsonic API (see specs/subsonic.md).

``/rest/<method>`` and ``/rest/<method>.view``, GET and form POST, answered
in XML (default), JSON or JSONP by one dispatcher (:mod:`.core`). One module
per API area registers its methods; :mod:`.envelope` writes the responses,
:mod:`.shapes` maps library rows to Subsonic objects, :mod:`.auth` checks
credentials. The blueprint also carries the native endpoint for a user's
Subsonic app password (``/api/v1/me/subsonic-password``).
"""

from __future__ import annotations

from quart import Blueprint

from ..access import SUBSONIC, access
from . import (annotation, bookmarks, browsing, lists, media, playlists, podcasts, queue, search, sonic,  # noqa: F401
               sources, system, transcoding, users)  # (register)
from . import radio, sharing  # noqa: F401  (register: internet radio, share links)
from .core import METHODS, dispatch

bp = Blueprint("subsonic", __name__)
bp.register_blueprint(users.native)

ALL_METHODS = ["GET", "POST", "HEAD", "PUT", "PATCH", "DELETE"]


@bp.route("/rest", methods=ALL_METHODS, defaults={"name": ""}, strict_slashes=False)
@bp.route("/rest/<path:name>", methods=ALL_METHODS)
@access(SUBSONIC)
async def rest(name: str):
    return await dispatch(name)


__all__ = ["METHODS", "bp"]
