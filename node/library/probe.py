"""Reading a file's audio stream with PyAV, for what mutagen cannot tell.

The scan reads tags and stream info with mutagen (fast: headers only). PyAV
(FFmpeg) is asked only when mutagen cannot say: containers mutagen does not
read (Matroska, CAF, W64…), a stream detail it leaves out (TTA's channels and
bit depth), and files whose header is wrong or unreadable — then the audio is
decoded and its duration counted from the decoded samples, as a player would.
This runs in the scan's worker threads and processes, never on the event loop.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

#: FFmpeg decoder names → the codec vocabulary of the index (``track.codec``).
_CODEC_NAMES = {
    "mp3float": "mp3", "mp3": "mp3", "mp2float": "mp2", "mp2": "mp2", "mp1float": "mp1", "mp1": "mp1",
    "wmav1": "wma", "wmav2": "wma", "wmapro": "wmapro", "wmavoice": "wma", "wmalossless": "wmalossless",
    "musepack7": "musepack", "musepack8": "musepack", "mpc7": "musepack", "mpc8": "musepack", "libopus": "opus", "libvorbis": "vorbis",
    "dsd_lsbf": "dsd", "dsd_msbf": "dsd", "dsd_lsbf_planar": "dsd", "dsd_msbf_planar": "dsd", "dst": "dst",
    "libspeex": "speex", "dca": "dts",
}
#: Codecs whose decoded audio is the original, bit for bit.
LOSSLESS_CODECS = frozenset({
    "flac", "alac", "pcm", "wavpack", "ape", "tta", "wmalossless", "dsd", "dst", "truehd", "mlp", "tak",
    "shorten",
})
#: FFmpeg's container metadata keys → the tag vocabulary of :mod:`.tagmap`.
_TAG_NAMES = {"album_artist": "albumartist", "track": "tracknumber", "disc": "discnumber", "year": "date",
              "publisher": "label", "lyrics": "lyrics", "comment": "comment"}
MAX_DECODE_SECONDS = 6 * 3600  # a decode that counts a duration stops here (a hostile endless stream)


#: The index's codec names → FFmpeg decoders that play them (any one will do).
_DECODERS = {
    "dsd": ("dsd_lsbf", "dsd_msbf", "dsd_lsbf_planar", "dsd_msbf_planar"), "musepack": ("mpc8", "mpc7"),
    "wma": ("wmav2", "wmav1"), "pcm": ("pcm_s16le",), "adpcm_ima": ("adpcm_ima_wav", "adpcm_ima_qt"),
    "adpcm_ms": ("adpcm_ms",), "mace": ("mace3", "mace6"), "mp1": ("mp1float", "mp1"), "mp2": ("mp2float", "mp2"), "mp3": ("mp3float", "mp3"),
}


#: Codecs the node cannot work without (its tests transcode them): checking them would only cost
#: ``sonantica status`` the import of PyAV on an ordinary library.
_CORE = frozenset({"flac", "mp3", "aac", "vorbis", "opus", "pcm", "alac"})


def missing_decoders(codecs: list[str]) -> list[str]:
    """Of the index's codecs, those this PyAV/FFmpeg build cannot decode (so cannot transcode)."""
    return [c for c in codecs if c and c not in _CORE and not can_decode(c)]


@functools.lru_cache(maxsize=256)
def can_decode(codec: str) -> bool:
    """Whether this build decodes ``codec`` (a name of the index's vocabulary)."""
    return any(_has_decoder(name) for name in _DECODERS.get(codec, (codec,)))


def _has_decoder(name: str) -> bool:
    import av

    try:
        av.codec.Codec(name, "r")
    except (av.FFmpegError, ValueError, KeyError, LookupError):
        return False
    return True


class ProbeError(Exception):
    """No audio PyAV can decode; ``str()`` is the reason."""


@dataclass(frozen=True)
class Probe:
    codec: str
    sample_rate: int | None
    channels: int | None
    bit_depth: int | None
    duration: float  # seconds: decoded samples when ``decoded``, else what the container says
    bitrate: int | None  # bit/s as the container says
    decoded: bool
    tags: dict[str, list[str]]


def codec_name(name: str) -> str:
    """One name per codec: ``pcm_s24le`` → ``pcm``, ``mp3float`` → ``mp3``, ``dsd_lsbf_planar`` → ``dsd``."""
    if name.startswith("pcm_"):
        return "pcm"
    return _CODEC_NAMES.get(name, name)


def probe(path: str, decode: bool = False) -> Probe:
    """The first audio stream's codec and format; with ``decode``, its duration counted by decoding."""
    import av  # here, not at the top: ``sonantica status`` imports this module and seldom needs PyAV

    try:
        container = av.open(path, metadata_errors="ignore")
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise ProbeError(f"not readable by FFmpeg: {exc}") from exc
    with container:
        streams = container.streams.audio
        if not streams:
            raise ProbeError("no audio stream")
        stream = streams[0]
        ctx = stream.codec_context
        codec = codec_name(ctx.name)
        duration = _declared_duration(container, stream)
        if decode:
            duration = _decoded_duration(container, stream)
        return Probe(
            codec=codec,
            sample_rate=ctx.sample_rate or None,
            channels=ctx.channels or None,
            bit_depth=_bit_depth(ctx, codec),
            duration=duration,
            bitrate=(ctx.bit_rate or container.bit_rate or None),
            decoded=decode,
            tags=_tags(container, stream),
        )


def _declared_duration(container, stream) -> float:
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000
    return 0.0


def _decoded_duration(container, stream) -> float:
    """Seconds of audio the decoder gives; a file whose every packet fails is ProbeError."""
    import av

    rate = stream.codec_context.sample_rate or 0
    samples = 0
    errors = 0
    last_error = ""
    try:
        for packet in container.demux(stream):
            try:
                for frame in packet.decode():
                    samples += frame.samples
                    rate = frame.sample_rate or rate
            except (av.FFmpegError, ValueError) as exc:  # one bad packet: players skip it too
                errors += 1
                last_error = str(exc)
            if rate and samples > MAX_DECODE_SECONDS * rate:
                break
    except av.FFmpegError as exc:
        last_error = last_error or str(exc)
    if not samples or not rate:
        reason = f"no decodable audio ({last_error})" if last_error else "no decodable audio"
        raise ProbeError(reason[:300])
    return samples / rate


def _bit_depth(ctx, codec: str) -> int | None:
    """Bits per sample of a lossless stream (lossy codecs have none)."""
    if codec not in LOSSLESS_CODECS:
        return None
    if codec == "dsd":
        return 1
    extra = ctx.extradata or b""
    if codec == "flac" and len(extra) >= 18:  # STREAMINFO (maybe behind a 'fLaC' + block header)
        info = extra[8:] if extra[:4] == b"fLaC" else extra
        return (((info[12] & 1) << 4) | (info[13] >> 4)) + 1
    fmt = ctx.format
    return fmt.bits if fmt is not None else None


def _tags(container, stream) -> dict[str, list[str]]:
    raw: dict[str, list[str]] = {}
    for source in (container.metadata, stream.metadata):
        for key, value in source.items():
            name = key.lower()
            name = _TAG_NAMES.get(name, name)
            if isinstance(value, str) and value:
                raw.setdefault(name, []).append(value)
    return raw
