"""Test oracles: the OpenSubsonic OpenAPI description (JSON) and the Subsonic 1.16.1 XSD (XML).

``check_json(method, body)`` validates a JSON response against the schema
the OpenAPI file gives for ``/rest/<method>`` (resolving ``$ref`` inside the
file). ``check_xml(body)`` validates against the XSD patched to allow what
OpenSubsonic adds: any attribute on any element, the new top-level elements
(``openSubsonicExtensions``, ``lyricsList``, ``tokenInfo``, ``sonicMatch``; ``playQueueByIndex`` as a ``PlayQueue``), string ids for
the play queue's ``current``, and the new child elements of songs, albums
and artists (``genres``, ``artists``, ``replayGain``…), which are removed
before validation (their JSON form is checked by the OpenAPI schema).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import jsonschema
from lxml import etree
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

SHARED = Path(__file__).resolve().parents[3] / "shared" / "subsonic"
if not SHARED.exists():
    SHARED = Path("/work/shared/subsonic")
OPENAPI = SHARED / "opensubsonic-openapi.json"
XSD = SHARED / "subsonic-rest-api-1.16.1.xsd"
NS = "http://subsonic.org/restapi"
XS = "http://www.w3.org/2001/XMLSchema"
OPENSUBSONIC_CHILDREN = {
    "genres", "artists", "albumArtists", "contributors", "replayGain", "moods", "recordLabels", "releaseTypes",
    "discTitles", "isrc", "originalReleaseDate", "releaseDate", "roles", "works", "movements", "groupings",
}
NEW_TOP_LEVEL = ("openSubsonicExtensions", "lyricsList", "tokenInfo", "sonicMatch", "transcodeDecision", "songSources")
# new top-level elements shaped like an existing type (their new attributes are allowed like any other)
NEW_TYPED = {"playQueueByIndex": "sub:PlayQueue", "podcastEpisode": "sub:PodcastEpisode"}


@functools.cache
def _openapi():
    doc = json.loads(OPENAPI.read_text())
    registry = Registry().with_resource("urn:opensubsonic", Resource.from_contents(doc, default_specification=DRAFT7))
    return doc, registry


# Extensions we propose (specified in specs/subsonic.md, not yet in the OpenSubsonic OpenAPI): their payloads
SONG_SOURCE = {"type": "object", "additionalProperties": False, "required": ["id", "self", "serving", "state"],
               "properties": {"id": {"type": "string", "minLength": 1}, "name": {"type": "string"},
                              "self": {"type": "boolean"}, "serving": {"type": "boolean"},
                              "state": {"enum": ["self", "alive", "suspect", "unreachable", "unknown", "gone"]},
                              "rttMs": {"type": "integer", "minimum": 0}}}
PROPOSED = {
    "getSongSources": {"songSources": {"type": "array", "items": {
        "type": "object", "additionalProperties": False, "required": ["id", "reason", "source"],
        "properties": {"id": {"type": "string"}, "serving": {"type": "string"},
                       "reason": {"enum": ["local", "streaming", "cache", "preferred", "none"]},
                       "source": {"type": "array", "items": SONG_SOURCE}}}}},
}


def response_schema(method: str) -> dict:
    doc, _ = _openapi()
    if method in PROPOSED:
        ok = {"allOf": [{"$ref": "urn:opensubsonic#/components/schemas/SubsonicSuccessResponse"},
                        {"type": "object", "required": list(PROPOSED[method]), "properties": PROPOSED[method]}]}
        return {"type": "object", "required": ["subsonic-response"], "properties": {"subsonic-response": {
            "oneOf": [ok, {"$ref": "urn:opensubsonic#/components/schemas/SubsonicFailureResponse"}]}}}
    ops = doc["paths"][f"/rest/{method}"]
    op = ops.get("get") or ops["post"]  # getTranscodeDecision is POST only
    resp = op["responses"]["200"]
    if "$ref" in resp:
        resp = doc["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
    if "application/json" not in resp["content"]:  # binary methods (stream, getCoverArt): errors are envelopes
        return {"$ref": "urn:opensubsonic#/components/schemas/SubsonicResponse"}
    schema = resp["content"]["application/json"]["schema"]
    if "$ref" not in schema:  # an inline payload (getTranscodeDecision): the success envelope plus it
        inline = json.loads(json.dumps(schema).replace('"#/components', '"urn:opensubsonic#/components'))
        ok = {"allOf": [{"$ref": "urn:opensubsonic#/components/schemas/SubsonicSuccessResponse"}, inline]}
        return {"type": "object", "required": ["subsonic-response"], "properties": {"subsonic-response": {
            "oneOf": [ok, {"$ref": "urn:opensubsonic#/components/schemas/SubsonicFailureResponse"}]}}}
    return {"$ref": "urn:opensubsonic#" + schema["$ref"][1:]}


def check_json(method: str, body: dict) -> None:
    _, registry = _openapi()
    validator = jsonschema.Draft7Validator(response_schema(method), registry=registry,
                                           format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(body), key=lambda e: e.path)
    if errors:
        # oneOf hides the useful message: re-check against the success branch for a precise one
        inner = body.get("subsonic-response", {})
        detail = [str(e.message)[:300] for e in errors]
        if inner.get("status") == "ok" and "$ref" in response_schema(method):
            doc, _ = _openapi()
            ref = response_schema(method)["$ref"].replace("Response", "SuccessResponse")
            v2 = jsonschema.Draft7Validator({"$ref": ref}, registry=registry)
            detail = [f"{list(e.absolute_path)}: {e.message[:300]}" for e in v2.iter_errors(inner)]
        raise AssertionError(f"{method}: JSON does not match the OpenSubsonic schema: {detail}")
    assert isinstance(body["subsonic-response"]["openSubsonic"], bool)


@functools.cache
def _xsd() -> etree.XMLSchema:
    tree = etree.parse(str(XSD))
    root = tree.getroot()
    q = lambda tag: f"{{{XS}}}{tag}"  # noqa: E731
    for ct in root.iter(q("complexType")):
        ext = ct.find(f"{q('complexContent')}/{q('extension')}")
        (ext if ext is not None else ct).append(etree.Element(q("anyAttribute"), processContents="skip"))
    choice = root.find(f"{q('complexType')}[@name='Response']/{q('choice')}")
    for name in NEW_TOP_LEVEL:
        choice.append(etree.Element(q("element"), name=name, type="xs:anyType", minOccurs="1",
                                    maxOccurs="unbounded"))
    for name, kind in NEW_TYPED.items():
        choice.append(etree.Element(q("element"), name=name, type=kind, minOccurs="1", maxOccurs="1"))
    pq = root.find(f"{q('complexType')}[@name='PlayQueue']/{q('attribute')}[@name='current']")
    pq.set("type", "xs:string")
    return etree.XMLSchema(tree)


def check_xml(body: bytes) -> etree._Element:
    doc = etree.fromstring(body)
    assert doc.tag == f"{{{NS}}}subsonic-response", doc.tag
    for key in ("type", "serverVersion", "openSubsonic"):
        assert doc.get(key), f"envelope lacks {key}"
    stripped = etree.fromstring(body)
    for el in list(stripped.iter()):
        parent = el.getparent()
        if parent is not None and parent is not stripped and etree.QName(el).localname in OPENSUBSONIC_CHILDREN:
            parent.remove(el)
    schema = _xsd()
    if not schema.validate(stripped):
        raise AssertionError(f"XML does not match the XSD: {schema.error_log.last_error}\n{body[:600]!r}")
    return doc
