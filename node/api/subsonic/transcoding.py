"""OpenSubsonic ``transcoding``: getTranscodeDecision (POST, ClientInfo JSON body) and getTranscodeStream.

The decision itself is pure (:mod:`...streaming.decision`); here it gets the
track, the user's settings and the node's LAN/WAN defaults (the same ones
``stream`` uses), and the stream named by ``transcodeParams`` goes through the
same transcoder, cache and federation path as ``stream``. getTranscodeStream
answers errors with HTTP status codes, as its page says, not envelopes.
"""

from __future__ import annotations

import json

from quart import Response, request

from ...errors import InvalidInput, NotFound
from ...streaming import FORMATS, TranscodeSpec
from ...streaming import decision as dec
from ..errors import ApiError
from ..streams import client_is_local, stream_response, track_source
from .core import Call, method
from .envelope import GENERIC, NOT_FOUND, SubsonicError, not_found
from .media import _settings

MAX_BODY = 64 * 1024


def _media(call: Call) -> str:
    """The song (``tr-``) or downloaded podcast episode (``pe-``) asked for."""
    ident, kind = call.require("mediaId"), call.require("mediaType")
    if kind not in ("song", "podcast"):
        raise SubsonicError(GENERIC, "parameter 'mediaType' must be song or podcast")
    if not ident.startswith("tr-" if kind == "song" else "pe-"):
        raise not_found(f"{'song' if kind == 'song' else 'podcast episode'} {ident!r}")
    return ident


async def _source_of(ident: str) -> tuple[dict, str | None]:
    """(track or track-like episode, its path or None for a member's song); NotFound when it names nothing."""
    if ident.startswith("pe-"):
        from ..podcasts import episode_source

        return await episode_source(ident)  # only downloaded episodes have a file
    return await track_source(ident)


async def _client_info() -> dec.ClientInfo:
    if (request.content_length or 0) > MAX_BODY:
        raise SubsonicError(GENERIC, f"the ClientInfo body is larger than {MAX_BODY} bytes")
    raw = await request.get_data()
    if len(raw) > MAX_BODY:
        raise SubsonicError(GENERIC, f"the ClientInfo body is larger than {MAX_BODY} bytes")
    try:
        return dec.parse_client_info(json.loads(raw or b"null"))
    except ValueError as exc:  # json's and BadClientInfo
        raise SubsonicError(GENERIC, f"getTranscodeDecision needs a ClientInfo JSON body: {exc}") from None


def policy_for(config, settings: dict, local: bool) -> dec.Policy:
    """The node's side of the decision: what ``stream`` would do for this user on this network."""
    fmt = settings.get("format_lan" if local else "format_wan") or (
        config.default_format_lan if local else config.default_format_wan)
    if fmt in ("raw", "original") or fmt not in FORMATS:
        return dec.Policy(local, None, None)
    kbps = settings.get("bitrate_wan") or config.default_bitrate_wan
    return dec.Policy(local, int(kbps) * 1000, fmt)


_CODEC_OF_FORMAT = {"mp3": "mp3", "m4a": "aac", "aac": "aac", "ogg": "vorbis", "opus": "opus", "flac": "flac"}


def source_of(track: dict) -> dec.Source:
    """The original's facts; a podcast episode knows its format only, its codec is the format's usual one."""
    bitrate = track.get("bitrate")
    fmt = (track.get("format") or "").lower()
    return dec.Source(fmt, (track.get("codec") or _CODEC_OF_FORMAT.get(fmt, fmt)).lower(),
                      int(bitrate) * 1000 if bitrate else None, track.get("sample_rate"), track.get("bit_depth"),
                      track.get("channels"))


def _stream_details(container: str, codec: str, bitrate: int | None, rate: int | None, depth: int | None,
                    channels: int | None) -> dict:
    out = {"protocol": "http", "container": container, "codec": codec, "audioChannels": channels,
           "audioBitrate": bitrate, "audioSamplerate": rate, "audioBitdepth": depth}
    return {k: v for k, v in out.items() if v is not None}


@method("getTranscodeDecision")
async def get_transcode_decision(call: Call) -> dict:
    ident = _media(call)
    client = await _client_info()
    try:
        track, _path = await _source_of(ident)
    except NotFound:
        what = "song" if ident.startswith("tr-") else "podcast episode (only downloaded episodes play)"
        raise not_found(f"{what} {ident!r}") from None
    source = source_of(track)
    policy = policy_for(call.node.config, await _settings(call), client_is_local(request.remote_addr))
    outcome = dec.decide(source, client, policy)
    body: dict = {"canDirectPlay": outcome.direct, "canTranscode": outcome.target is not None}
    if outcome.reasons:
        body["transcodeReason"] = list(outcome.reasons)
    if outcome.error:
        body["errorReason"] = outcome.error
    if outcome.direct or outcome.target is not None:
        body["transcodeParams"] = dec.encode_params(outcome.target)
    body["sourceStream"] = _stream_details(source.container, source.codec, source.bitrate, source.sample_rate,
                                           source.bit_depth, source.channels)
    if outcome.target is not None:
        t = outcome.target
        body["transcodeStream"] = _stream_details(t.container, t.codec, t.bitrate, t.sample_rate, None, t.channels)
    return {"transcodeDecision": body}


def _http_error(status: int, message: str) -> Response:
    return Response(message + "\n", status=status, mimetype="text/plain")


@method("getTranscodeStream")
async def get_transcode_stream(call: Call) -> Response:
    try:
        ident = _media(call)
        token = call.require("transcodeParams")
        offset = call.int("offset", 0, 0, 86_400) or 0
        params = dec.decode_params(token)
    except SubsonicError as exc:
        return _http_error(404 if exc.code == NOT_FOUND else 400, exc.message)
    except (ValueError, InvalidInput) as exc:
        return _http_error(400, str(exc))
    try:
        track, path = await _source_of(ident)
        spec = None
        if params is not None:
            fmt, bitrate, rate, channels = params
            spec = TranscodeSpec(fmt, bitrate, 0.0, channels=channels, sample_rate=rate)
        return await stream_response(track, path, spec, float(offset), method=call.http_method)
    except NotFound:
        return _http_error(404, f"{'song' if ident.startswith('tr-') else 'podcast episode'} {ident!r} not found")
    except ApiError as exc:
        return _http_error(exc.status, exc.message)
    except ValueError as exc:
        return _http_error(400, str(exc))
