"""Native API: internet radio stations (``/api/v1/stations``), their pictures, and the optional proxy.

Admins add, change and remove stations; every user lists and plays them. Players fetch a station's
stream from the station itself: the node does not relay it unless the owner sets ``radio_proxy =
true`` (then ``/api/v1/stations/{id}/stream`` relays it, and the web app plays that). Without the
proxy the web app's Content-Security-Policy allows, in ``media-src``, exactly the origins of the
stations' stream URLs (:func:`app_csp`), and nothing else is loosened.
"""

from __future__ import annotations

import logging

import httpx
from quart import Blueprint, Response, current_app, jsonify, request

from ..store import radio as radio_store
from .access import ADMIN, USER, access
from .app import CSP, json_body
from .errors import ApiError

log = logging.getLogger(__name__)

bp = Blueprint("radio", __name__, url_prefix="/api/v1")

PROXY_TYPES = ("audio/", "application/ogg", "application/octet-stream", "video/ogg", "application/x-mpegurl",
               "application/vnd.apple.mpegurl")
PROXY_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
PROXY_CHUNK = 16 * 1024


def proxied() -> bool:
    return bool(current_app.node.config.radio_proxy)


def station_json(s: dict) -> dict:
    out = {k: v for k, v in s.items() if k != "has_cover"}
    out["cover_url"] = f"/api/v1/stations/{s['id']}/cover" if s["has_cover"] else None
    out["play_url"] = f"/api/v1/stations/{s['id']}/stream" if proxied() else s["stream_url"]
    return out


async def app_csp() -> str:
    """The web app's CSP: the node's, with the stations' stream origins in ``media-src`` when players
    fetch them directly (no proxy)."""
    if proxied():
        return CSP
    origins = await current_app.node.store.read(radio_store.stream_origins)
    if not origins:
        return CSP
    return CSP.replace("media-src 'self' blob:", "media-src 'self' blob: " + " ".join(origins), 1)


async def station_cover(node, station_id: str, size: int | None):
    """The station's picture (a JPEG thumbnail at one of the cover sizes when ``size`` is given), or the
    placeholder (a :class:`.covers.Cover`); NotFound for no such station."""
    import trio

    from ..library import artwork
    from .covers import Cover

    found = await node.store.read(radio_store.cover, station_id)
    if found is None:
        return Cover(*await artwork.placeholder("album", size), placeholder=True)
    if size is None:
        return Cover(*found)
    return Cover(await trio.to_thread.run_sync(_thumbnail, found[0], artwork._snap(size)), "image/jpeg")


def _thumbnail(data: bytes, size: int) -> bytes:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        im.draft("RGB", (size, size))
        im = im.convert("RGB")
        im.thumbnail((size, size), Image.LANCZOS)
        out = io.BytesIO()
        im.save(out, "JPEG", quality=85)
    return out.getvalue()


def _check_picture(data: bytes) -> None:
    """Refuse what is not a picture Pillow can read within bounds (checked once, at upload)."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as im:
            if im.width * im.height > 40_000_000:
                raise ValueError("too many pixels")
            im.verify()
    except Exception as exc:  # Pillow raises many kinds for a broken picture
        raise ApiError(400, "invalid_input", "the picture cannot be read as an image (at most 40 megapixels)") from exc


@bp.get("/stations")
@access(USER)
async def list_stations():
    """Every station, by name; ``proxied``: whether players fetch streams through this node."""
    rows = await current_app.node.store.read(radio_store.listing)
    return jsonify({"items": [station_json(s) for s in rows], "proxied": proxied()})


@bp.post("/stations")
@access(ADMIN)
async def create_station():
    """Add a station: ``name``, ``stream_url`` and optional ``homepage_url`` (http or https)."""
    body = await json_body("name", "stream_url")
    s = await current_app.node.store.write(radio_store.create, body["name"], body["stream_url"],
                                           body.get("homepage_url"))
    return jsonify(station_json(s)), 201


@bp.get("/stations/<station_id>")
@access(USER)
async def get_station(station_id: str):
    """One station."""
    return jsonify(station_json(await current_app.node.store.read(radio_store.get, station_id)))


@bp.patch("/stations/<station_id>")
@access(ADMIN)
async def update_station(station_id: str):
    """Change a station's ``name``, ``stream_url`` or ``homepage_url`` (empty: none)."""
    body = await json_body()
    s = await current_app.node.store.write(lambda db: radio_store.update(
        db, station_id, name=body.get("name"), stream_url=body.get("stream_url"),
        homepage_url=body.get("homepage_url")))
    return jsonify(station_json(s))


@bp.delete("/stations/<station_id>")
@access(ADMIN)
async def delete_station(station_id: str):
    """Remove a station."""
    await current_app.node.store.write(radio_store.delete, station_id)
    return "", 204


@bp.get("/stations/<station_id>/cover")
@access(USER)
async def get_station_cover(station_id: str):
    """The station's picture (a placeholder when it has none)."""
    cover = await station_cover(current_app.node, station_id, None)
    return Response(cover.data, mimetype=cover.mime, headers={"Cache-Control": cover.cache_control})


@bp.put("/stations/<station_id>/cover")
@access(ADMIN)
async def put_station_cover(station_id: str):
    """Give the station a picture: the request body is a JPEG, PNG or WebP image of at most 2 MB."""
    if (request.content_length or 0) > radio_store.MAX_COVER:
        raise ApiError(413, "too_large", "a station's picture may be at most 2 MB")
    data = await request.get_data()
    if radio_store.image_type(data) is not None:
        import trio

        await trio.to_thread.run_sync(_check_picture, data)
    s = await current_app.node.store.write(radio_store.set_cover, station_id, data)
    return jsonify(station_json(s))


@bp.delete("/stations/<station_id>/cover")
@access(ADMIN)
async def delete_station_cover(station_id: str):
    """Remove the station's picture."""
    await current_app.node.store.write(radio_store.set_cover, station_id, None)
    return "", 204


@bp.get("/stations/<station_id>/stream")
@access(USER)
async def station_stream(station_id: str):
    """The station's stream relayed by this node, when the owner allows it (``radio_proxy``); 404 otherwise."""
    if not proxied():
        raise ApiError(404, "not_proxied", "this node does not relay radio streams: play the station's stream_url")
    station = await current_app.node.store.read(radio_store.get, station_id)
    return await relay(station["stream_url"])


async def relay(url: str) -> Response:
    """Open the upstream stream and pass its bytes on while the listener listens; only audio is relayed."""
    client = httpx.AsyncClient(timeout=PROXY_TIMEOUT, follow_redirects=False)
    try:
        upstream = await _open(client, url)
    except BaseException:
        await client.aclose()
        raise
    kind = upstream.headers.get("content-type", "application/octet-stream").split(";")[0].strip().lower()
    if not kind.startswith(PROXY_TYPES):
        await upstream.aclose()
        await client.aclose()
        raise ApiError(502, "not_audio", f"the station answered {kind}, not an audio stream")

    async def body():
        try:
            async for chunk in upstream.aiter_raw(PROXY_CHUNK):
                yield chunk
        except httpx.HTTPError as exc:
            log.info("radio stream %s ended: %s", url, exc)
        finally:
            await upstream.aclose()
            await client.aclose()

    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    return Response(body(), status=200, mimetype=kind, headers=headers)


async def _open(client: httpx.AsyncClient, url: str, hops: int = 3) -> httpx.Response:
    """GET the stream, following at most ``hops`` redirects, each to another http(s) URL."""
    for _ in range(hops + 1):
        try:
            resp = await client.send(client.build_request("GET", url, headers={"Icy-MetaData": "0"}), stream=True)
        except httpx.HTTPError as exc:
            raise ApiError(502, "station_unreachable", f"the station cannot be reached: {exc}") from exc
        if resp.status_code in (301, 302, 303, 307, 308) and "location" in resp.headers:
            await resp.aclose()
            try:
                url = radio_store.check_url(str(resp.url.join(resp.headers["location"])), "redirect", required=True)
            except Exception as exc:
                raise ApiError(502, "station_unreachable", "the station redirected to a non-http address") from exc
            continue
        if resp.status_code != 200:
            await resp.aclose()
            raise ApiError(502, "station_unreachable", f"the station answered HTTP {resp.status_code}")
        return resp
    raise ApiError(502, "station_unreachable", "the station redirected too many times")


__all__ = ["app_csp", "bp", "station_cover", "station_json"]
