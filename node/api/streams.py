"""Native API: play and download tracks, original (bit-exact, Range) or transcoded."""

from __future__ import annotations

import dataclasses
import ipaddress
import re

from quart import Blueprint, Response, current_app, request

from ..library.paths import OutsideLibrary, existing_file
from ..store import browse
from ..streaming import (
    FORMATS,
    OffsetPastEnd,
    SourceUnavailable,
    TranscodeBusy,
    TranscodeFailed,
    TranscodeSpec,
    serve_original,
    serve_transcode,
)
from .access import USER, access
from .app import current_user
from .errors import ApiError, bad_request

bp = Blueprint("streams", __name__, url_prefix="/api/v1")


def client_is_local(address: str | None) -> bool:
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def _transcode_identity(track: dict) -> str | None:
    """The transcode cache's key for a track's audio: ``audio_id`` first.

    It is known from the scan on and does not change with tags (a transcode
    carries none), while ``file_id`` appears only when analysis has hashed the
    file: keyed by it, a transcode made before that moment was never found again.
    """
    return track.get("audio_id") or track.get("file_id")


async def track_source(track_id: str) -> tuple[dict, str]:
    """The track and its confined absolute path (the one way from an id to a file)."""
    store = current_app.node.store
    t = await store.read(browse.require_track, track_id)
    if t.get("source"):
        return t, None  # held by other members of the federation
    folder = await store.read(browse.folder_of, t["folder_id"])
    try:
        return t, existing_file(folder["path"], t["path"])
    except OutsideLibrary as exc:
        raise ApiError(404, "not_found", f"track {track_id} is not inside a library folder") from exc


def _without_path(reason: str, path: str | None, track: dict) -> str:
    """A decoder's or the OS's reason, told to a listener: the file's server path (which decoders quote)
    becomes its path in the library, so the answer never shows the server's layout."""
    if path:
        reason = reason.replace(path, track["path"])
    return re.sub(r"(?<![\w.])/(?:[^/\s'\"]+/)+[^/'\"]*", "…", reason)  # any other absolute path


#: Codecs nearly every player decodes. A track in another codec (DSD, WMA, Musepack, TTA, Speex,
#: AC-3, ADPCM in a WAV…) is transcoded when the request names no format, even where the default is
#: the original: an app that wants those bytes asks for ``format=raw``.
LAN_TRANSCODE_KBPS = 256
PLAYED_BY_MOST = frozenset({"mp3", "aac", "flac", "vorbis", "opus", "alac", "pcm", "wavpack", "ape", "mp2"})


def choose_format(track: dict, fmt: str | None, kbps: int | None, local: bool, settings: dict) -> TranscodeSpec | None:
    """None for the original; else what to transcode to. Per-request choice beats the user's default."""
    config = current_app.node.config
    if fmt in (None, ""):
        fmt = settings.get("format_lan" if local else "format_wan") or (
            config.default_format_lan if local else config.default_format_wan)
        if fmt in ("raw", "original") and not plays_widely(track):
            wan = settings.get("format_wan") or config.default_format_wan
            fmt = wan if wan in FORMATS else "opus"
            if local and not kbps:
                kbps = LAN_TRANSCODE_KBPS  # on the LAN, where the original was the choice: transparent
    if fmt in ("raw", "original"):
        if kbps and track.get("bitrate") and track["bitrate"] > kbps:
            fmt = "opus"  # maxBitRate below the original's: transcode to fit
        else:
            return None
    if fmt not in FORMATS:
        raise bad_request(f"unknown format {fmt!r}: raw, {', '.join(sorted(FORMATS))}")
    kbps = kbps or settings.get("bitrate_wan") or config.default_bitrate_wan
    fmt_info = FORMATS[fmt]
    bitrate = max(fmt_info.min_bitrate, min(fmt_info.max_bitrate, kbps * 1000))
    return TranscodeSpec(fmt, bitrate, 0.0)


def plays_widely(track: dict) -> bool:
    """Whether most players decode the track's codec (an unknown codec is given the benefit, and so
    is one this FFmpeg build cannot decode: the original is then the only way to play it)."""
    from ..library.probe import can_decode

    codec = (track.get("codec") or "").lower()
    return not codec or codec in PLAYED_BY_MOST or not can_decode(codec)


def past_end(message: str) -> ApiError:
    """416: the stream was asked to start at or after the end (Subsonic answers it as error 0)."""
    return ApiError(416, "offset_past_end", message)


def check_offset(track: dict, offset: float) -> None:
    """Refuse an offset at or past the track's known end before any work (HEAD and GET alike).

    The transcoder refuses it too (OffsetPastEnd) where the stored duration is unknown or long.
    """
    duration = track.get("duration")
    if offset > 0 and duration and offset >= duration:
        raise past_end(f"offset {offset:g} s is past the end of track {track['id']} ({duration:.3f} s long)")


async def stream_response(track: dict, path: str | None, spec: TranscodeSpec | None, offset: float,
                          download: bool = False, method: str | None = None) -> Response:
    """The track's bytes as asked; ``method`` is the HTTP method the request stands for (Range and
    conditionals depend on it; the Subsonic API answers a form POST as a GET), default the request's."""
    node = current_app.node
    method = method or request.method
    check_offset(track, offset)
    if path is None:
        from ..federation.errors import FederationError
        from ..federation.remote import local_copy, remote_stream

        try:
            if spec is None and offset <= 0:
                resp = await remote_stream(node, track, method, request.headers, download)
                return Response(resp.body, status=resp.status, headers=resp.headers)
            path = await local_copy(node, track)
        except FederationError as exc:
            raise ApiError(503, "source_unavailable", f"no member can serve this track now: {exc}",
                           {"Retry-After": "10"}) from exc
    name = None
    if download:
        import posixpath

        name = posixpath.basename(track["path"])
    try:
        if spec is None and offset <= 0:
            resp = await serve_original(path, request.headers, method=method, download_name=name,
                                        content_id=track.get("file_id") or track.get("audio_id"))
        else:
            if spec is None:
                spec = TranscodeSpec("opus", current_app.node.config.default_bitrate_wan * 1000, offset)
            else:
                spec = dataclasses.replace(spec, offset=offset)
            if name:
                name = name.rsplit(".", 1)[0] + "." + {"aac": "aac", "m4a": "m4a", "mp3": "mp3"}.get(spec.format, "opus")
            resp = await serve_transcode(path, spec, request.headers, method=method,
                                         limiter=node.transcode_limiter, cache=node.transcode_cache,
                                         source_identity=_transcode_identity(track),
                                         download_name=name)
    except SourceUnavailable as exc:
        raise ApiError(404, "not_found", f"the file of track {track['id']} cannot be read: "
                                         f"{_without_path(exc.reason, path, track)}") from exc
    except TranscodeBusy as exc:
        raise ApiError(503, "transcode_busy", str(exc), {"Retry-After": "5"}) from exc
    except TranscodeFailed as exc:
        raise ApiError(422, "transcode_failed", f"cannot transcode track {track['id']}: "
                                               f"{_without_path(exc.reason, path, track)}") from exc
    except OffsetPastEnd as exc:
        raise past_end(f"track {track['id']}: {exc}") from exc
    except ValueError as exc:
        raise bad_request(str(exc)) from exc
    activity = getattr(node, "stream_activity", None)  # analysis backs off while streams play
    body = activity.track(resp.body) if activity is not None else resp.body
    return Response(body, status=resp.status, headers=resp.headers)


def _float_arg(name: str) -> float:
    raw = request.args.get(name, "0") or "0"
    try:
        value = float(raw)
    except ValueError:
        raise bad_request(f"{name} must be a number of seconds") from None
    if not 0 <= value < 86400:
        raise bad_request(f"{name} must be between 0 and 86400 seconds")
    return value


def _int_arg(name: str) -> int | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return max(0, int(raw))
    except ValueError:
        raise bad_request(f"{name} must be an integer") from None


@bp.route("/tracks/<track_id>/stream", methods=["GET", "HEAD"])
@access(USER)
async def stream(track_id: str):
    track, path = await track_source(track_id)
    settings = await _settings()
    spec = choose_format(track, request.args.get("format"), _int_arg("bitrate"),
                         client_is_local(request.remote_addr), settings)
    return await stream_response(track, path, spec, _float_arg("offset"))


@bp.route("/tracks/<track_id>/download", methods=["GET", "HEAD"])
@access(USER)
async def download(track_id: str):
    track, path = await track_source(track_id)
    fmt = request.args.get("format")
    spec = None if fmt in (None, "", "raw") else choose_format(track, fmt, _int_arg("bitrate"), True, {})
    return await stream_response(track, path, spec, 0.0, download=True)


async def _settings() -> dict:
    import json

    uid = current_user()["id"]
    row = await current_app.node.store.read(
        lambda db: db.conn.execute("SELECT settings FROM user WHERE id = ?", (uid,)).fetchone())
    try:
        return json.loads(row[0]) if row else {}
    except ValueError:
        return {}
