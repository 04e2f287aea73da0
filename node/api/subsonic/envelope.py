"""The Subsonic response envelope in XML, JSON and JSONP, and the error codes.

A handler returns a plain dict (``{"album": {...}}``); :func:`render` wraps it
in ``subsonic-response`` and writes it in the format the client asked for.
The one dict serves both formats, by these rules for XML (those of the
Subsonic XSD): a scalar becomes an attribute, a dict a child element, a list
repeated child elements (of text for lists of scalars), and the key
``value`` the element's text. The few places where the XSD wants a scalar as
a child element (artist/album info) are listed in :data:`TEXT_ELEMENTS`.
Keys are emitted in dict order, so handlers build dicts in the XSD's
sequence order (``artist``, ``album``, ``song``). Errors are answered with
HTTP 200, as every client expects, except "rate limited" (429 with Retry-After).
"""

from __future__ import annotations

import json
import re
from xml.etree import ElementTree as ET

from quart import Response

API_VERSION = "1.16.1"
SERVER_TYPE = "sonantica"
XMLNS = "http://subsonic.org/restapi"

# error codes of the Subsonic API (Responses/error.md)
GENERIC = 0
MISSING_PARAMETER = 10
CLIENT_TOO_OLD = 20
SERVER_TOO_OLD = 30
WRONG_CREDENTIALS = 40
TOKEN_NOT_SUPPORTED = 41
AUTH_NOT_SUPPORTED = 42
CONFLICTING_AUTH = 43
INVALID_API_KEY = 44
NOT_AUTHORISED = 50
TRIAL_EXPIRED = 60
NOT_FOUND = 70

TEXT_ELEMENTS = {
    "artistInfo": {"biography", "musicBrainzId", "lastFmUrl", "smallImageUrl", "mediumImageUrl", "largeImageUrl"},
    "artistInfo2": {"biography", "musicBrainzId", "lastFmUrl", "smallImageUrl", "mediumImageUrl", "largeImageUrl"},
    "albumInfo": {"notes", "musicBrainzId", "lastFmUrl", "smallImageUrl", "mediumImageUrl", "largeImageUrl"},
}
# elements whose ``value`` is an attribute because they hold child elements (songLyrics 2's cueLine)
VALUE_ATTRIBUTE = {"cueLine"}
# JSON arrays whose XML elements are named in the singular
XML_LIST_NAMES = {("structuredLyrics", "agents"): "agent"}
_CALLBACK = re.compile(r"^[A-Za-z_$][\w$.]{0,99}$")


class SubsonicError(Exception):
    """An error answered in the envelope: ``code`` from the table above, ``message`` for people."""

    def __init__(self, code: int, message: str, help_url: str | None = None, *, status: int = 200,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.help_url = help_url
        self.status = status  # 200 but for rate limiting (429 with Retry-After)
        self.headers = headers or {}

    def payload(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.help_url:
            error["helpUrl"] = self.help_url
        return {"error": error}


def missing(name: str) -> SubsonicError:
    return SubsonicError(MISSING_PARAMETER, f"required parameter {name!r} is missing")


def not_found(what: str) -> SubsonicError:
    return SubsonicError(NOT_FOUND, f"{what} not found")


def envelope(payload: dict, ok: bool, server_version: str) -> dict:
    return {
        "status": "ok" if ok else "failed",
        "version": API_VERSION,
        "type": SERVER_TYPE,
        "serverVersion": server_version,
        "openSubsonic": True,
        **payload,
    }


def render(payload: dict, fmt: str | None, callback: str | None = None, ok: bool = True,
           server_version: str = "0") -> Response:
    body = envelope(payload, ok, server_version)
    if fmt == "json":
        return Response(to_json(body), mimetype="application/json")
    if fmt == "jsonp":
        if not callback or not _CALLBACK.match(callback):
            body = envelope(SubsonicError(MISSING_PARAMETER, "jsonp needs a valid 'callback'").payload(), False,
                            server_version)
            return Response(to_json(body), mimetype="application/json")
        return Response(f"{callback}({to_json(body)});", mimetype="application/javascript")
    return Response(to_xml(body), mimetype="text/xml", headers={"Content-Type": "text/xml; charset=utf-8"})


def to_json(body: dict) -> str:
    return json.dumps({"subsonic-response": body}, ensure_ascii=False, separators=(",", ":"))


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() is False:
        return repr(value)
    return str(value)


def _fill(el: ET.Element, name: str, data: dict) -> None:
    text_keys = TEXT_ELEMENTS.get(name, ())
    for key, value in data.items():
        if value is None:
            continue
        if key == "value" and name not in VALUE_ATTRIBUTE and not isinstance(value, (dict, list)):
            el.text = _text(value)
        elif isinstance(value, dict):
            _fill(ET.SubElement(el, key), key, value)
        elif isinstance(value, list):
            tag = XML_LIST_NAMES.get((name, key), key)
            for item in value:
                child = ET.SubElement(el, tag)
                if isinstance(item, dict):
                    _fill(child, key, item)
                else:
                    child.text = _text(item)
        elif key in text_keys:
            ET.SubElement(el, key).text = _text(value)
        else:
            el.set(key, _text(value))


def to_xml(body: dict) -> bytes:
    root = ET.Element("subsonic-response", {"xmlns": XMLNS})
    _fill(root, "subsonic-response", body)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8", xml_declaration=False)
