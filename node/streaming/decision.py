"""Original or transcode? The OpenSubsonic ``transcoding`` decision, pure.

A client describes what it can play (``ClientInfo``: direct-play profiles,
transcoding profiles in its order of preference, per-codec limitations, bitrate
ceilings); the node adds its own ceiling for the network the client is on (the
user's or the node's LAN/WAN defaults, see ``choose_format`` in api/streams.py).
:func:`decide` answers, and says why:

1. The original plays as is when one direct-play profile accepts its
   container, codec, protocol (``http``: no HLS here) and channels, every
   limitation of the client's codec profile for that codec holds, and its
   bitrate is within both the client's and the node's ceiling.
2. Otherwise the first of the client's transcoding profiles that our
   transcoder can produce (Opus in Ogg, AAC in ADTS or MP4, MP3), at the lowest
   of the ceilings, the codec profile's limits on bitrate, sample rate and
   channels, and what the encoder allows; the user's preferred format goes
   first when the client lists it.
3. Neither: ``errorReason`` says what is missing.

Limitations: ``required`` decides what an *unknown* value does (a required
limitation fails on it, an optional one passes), as in Jellyfin's model; a
known value must always satisfy it. One reason string per direct-play profile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .transcode import FORMATS, output_rate

MAX_PROFILES = 64
MAX_LIMITATIONS = 32
LIMITATIONS = ("audioChannels", "audioBitrate", "audioProfile", "audioSamplerate", "audioBitdepth")
COMPARISONS = ("Equals", "NotEquals", "LessThanEqual", "GreaterThanEqual")
LAN_TRANSCODE_BITRATE = 256_000  # a transcode on the LAN with no ceiling anywhere: transparent for every codec

# our formats as (container names a client may use, codec name)
_TARGETS = {
    "opus": ({"ogg", "opus", "oga"}, "opus"),
    "aac": ({"aac", "adts"}, "aac"),
    "m4a": ({"mp4", "m4a"}, "aac"),
    "mp3": ({"mp3"}, "mp3"),
}
_CONTAINERS = {"m4a": {"m4a", "mp4", "m4b"}, "opus": {"ogg", "opus", "oga"}, "ogg": {"ogg", "oga"},
               "aiff": {"aiff", "aif"}, "wv": {"wv", "wavpack"}}


class BadClientInfo(ValueError):
    """The client's description cannot be read; the message names the field."""


@dataclass(frozen=True)
class Limitation:
    name: str
    comparison: str
    values: tuple[str, ...]
    required: bool

    def holds(self, value: int | None) -> bool:
        if value is None:
            return not self.required
        try:
            wanted = [int(float(v)) for v in self.values]
        except ValueError:
            return not self.required  # e.g. an audioProfile name: we know no profiles
        if not wanted:
            return True
        if self.comparison == "Equals":
            return value in wanted
        if self.comparison == "NotEquals":
            return value not in wanted
        if self.comparison == "LessThanEqual":
            return value <= wanted[0]
        return value >= wanted[0]

    def ceiling(self) -> int | None:
        """The largest value this limitation allows, when it is an upper bound."""
        try:
            if self.comparison == "LessThanEqual":
                return int(float(self.values[0]))
            if self.comparison == "Equals" and self.values:
                return max(int(float(v)) for v in self.values)
        except (ValueError, IndexError):
            return None
        return None


@dataclass(frozen=True)
class DirectPlay:
    containers: frozenset[str]
    codecs: frozenset[str]
    protocols: frozenset[str]
    max_channels: int | None


@dataclass(frozen=True)
class TranscodeProfile:
    container: str
    codec: str
    protocol: str
    max_channels: int | None


@dataclass(frozen=True)
class ClientInfo:
    name: str
    platform: str
    max_bitrate: int | None = None
    max_transcoding_bitrate: int | None = None
    direct: tuple[DirectPlay, ...] = ()
    transcoding: tuple[TranscodeProfile, ...] = ()
    codec_limits: dict[str, tuple[Limitation, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Source:
    """The original: ``container`` is the file's format (flac, mp3, m4a, opus, ogg, wav…), bitrate in bit/s."""
    container: str
    codec: str
    bitrate: int | None
    sample_rate: int | None
    bit_depth: int | None
    channels: int | None

    def value(self, name: str) -> int | None:
        return {"audioChannels": self.channels, "audioBitrate": self.bitrate, "audioSamplerate": self.sample_rate,
                "audioBitdepth": self.bit_depth, "audioProfile": None}[name]


@dataclass(frozen=True)
class Policy:
    """The node's side: ``max_bitrate`` (bit/s) for this client's network, None when originals go as they are;
    ``preferred`` the user's transcode format for this network (a FORMATS key) if any."""
    local: bool
    max_bitrate: int | None
    preferred: str | None


@dataclass(frozen=True)
class Target:
    format: str
    container: str
    codec: str
    bitrate: int
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class Decision:
    direct: bool
    target: Target | None
    reasons: tuple[str, ...]
    error: str = ""


def _str(value, where: str) -> str:
    if not isinstance(value, str):
        raise BadClientInfo(f"{where} must be a string")
    return value[:200]


def _int(value, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadClientInfo(f"{where} must be a non-negative integer")
    return value or None


def _names(value, where: str) -> frozenset[str]:
    if not isinstance(value, list) or len(value) > MAX_PROFILES:
        raise BadClientInfo(f"{where} must be a list (of at most {MAX_PROFILES})")
    return frozenset(_str(v, where).lower() for v in value)


def _list(value, where: str, limit: int = MAX_PROFILES) -> list:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > limit:
        raise BadClientInfo(f"{where} must be a list of at most {limit} entries")
    if not all(isinstance(v, dict) for v in value):
        raise BadClientInfo(f"{where} must hold objects")
    return value


def parse_client_info(body) -> ClientInfo:
    """The ``ClientInfo`` JSON object, checked field by field (BadClientInfo names the first bad one)."""
    if not isinstance(body, dict):
        raise BadClientInfo("the body must be a ClientInfo JSON object")
    direct = tuple(
        DirectPlay(_names(p.get("containers", []), f"directPlayProfiles[{i}].containers"),
                   _names(p.get("audioCodecs", []), f"directPlayProfiles[{i}].audioCodecs"),
                   _names(p.get("protocols", []), f"directPlayProfiles[{i}].protocols"),
                   _int(p.get("maxAudioChannels"), f"directPlayProfiles[{i}].maxAudioChannels"))
        for i, p in enumerate(_list(body.get("directPlayProfiles"), "directPlayProfiles")))
    transcoding = tuple(
        TranscodeProfile(_str(p.get("container", ""), f"transcodingProfiles[{i}].container").lower(),
                         _str(p.get("audioCodec", ""), f"transcodingProfiles[{i}].audioCodec").lower(),
                         _str(p.get("protocol", "http"), f"transcodingProfiles[{i}].protocol").lower(),
                         _int(p.get("maxAudioChannels"), f"transcodingProfiles[{i}].maxAudioChannels"))
        for i, p in enumerate(_list(body.get("transcodingProfiles"), "transcodingProfiles")))
    limits: dict[str, tuple[Limitation, ...]] = {}
    for i, p in enumerate(_list(body.get("codecProfiles"), "codecProfiles")):
        where = f"codecProfiles[{i}]"
        items = []
        for j, lim in enumerate(_list(p.get("limitations"), f"{where}.limitations", MAX_LIMITATIONS)):
            name, comparison = lim.get("name"), lim.get("comparison")
            if name not in LIMITATIONS:
                raise BadClientInfo(f"{where}.limitations[{j}].name must be one of {', '.join(LIMITATIONS)}")
            if comparison not in COMPARISONS:
                raise BadClientInfo(f"{where}.limitations[{j}].comparison must be one of {', '.join(COMPARISONS)}")
            values = tuple(_str(v, f"{where}.limitations[{j}].values") for v in
                           _list_of_scalars(lim.get("values", []), f"{where}.limitations[{j}].values"))
            items.append(Limitation(name, comparison, values, bool(lim.get("required", False))))
        codec = _str(p.get("name", ""), f"{where}.name").lower()
        limits[codec] = limits.get(codec, ()) + tuple(items)
    return ClientInfo(_str(body.get("name", ""), "name"), _str(body.get("platform", ""), "platform"),
                      _int(body.get("maxAudioBitrate"), "maxAudioBitrate"),
                      _int(body.get("maxTranscodingAudioBitrate"), "maxTranscodingAudioBitrate"),
                      direct, transcoding, limits)


def _list_of_scalars(value, where: str) -> list:
    if not isinstance(value, list) or len(value) > MAX_LIMITATIONS:
        raise BadClientInfo(f"{where} must be a list of at most {MAX_LIMITATIONS} strings")
    return [str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v for v in value]


def _containers(source: Source) -> set[str]:
    return _CONTAINERS.get(source.container, {source.container})


def _codec_matches(codec: str, wanted: frozenset[str]) -> bool:
    return not wanted or codec in wanted or (codec == "pcm" and any(w.startswith("pcm") or w == "wav" for w in wanted))


def _direct_refusal(profile: DirectPlay, source: Source, client: ClientInfo, policy: Policy) -> str | None:
    """Why this direct-play profile cannot take the original, or None when it can."""
    if profile.containers and not (_containers(source) & profile.containers):
        return f"container {source.container} not supported"
    if not _codec_matches(source.codec, profile.codecs):
        return f"audio codec {source.codec} not supported"
    if profile.protocols and "http" not in profile.protocols:
        return "protocol not supported (this node streams over http only)"
    if profile.max_channels and source.channels and source.channels > profile.max_channels:
        return f"{source.channels} audio channels, the client takes {profile.max_channels}"
    for lim in client.codec_limits.get(source.codec, ()):
        if not lim.holds(source.value(lim.name)):
            return f"{lim.name} {source.value(lim.name)} fails the client's {lim.comparison} {','.join(lim.values)}"
    if client.max_bitrate and source.bitrate and source.bitrate > client.max_bitrate:
        return f"bitrate {source.bitrate} above the client's maximum {client.max_bitrate}"
    if policy.max_bitrate and source.bitrate and source.bitrate > policy.max_bitrate:
        where = "LAN" if policy.local else "WAN"
        return f"bitrate {source.bitrate} above this user's {where} limit {policy.max_bitrate}"
    return None


def _our_format(profile: TranscodeProfile) -> str | None:
    for fmt, (containers, codec) in _TARGETS.items():
        if profile.codec == codec and (profile.container in containers or not profile.container):
            return fmt
    return None


def _ceiling(limits: tuple[Limitation, ...], name: str) -> int | None:
    found = [c for lim in limits if lim.name == name and (c := lim.ceiling()) is not None]
    return min(found) if found else None


def _target(fmt: str, profile: TranscodeProfile, source: Source, client: ClientInfo, policy: Policy) -> Target:
    info = FORMATS[fmt]
    codec = _TARGETS[fmt][1]
    limits = client.codec_limits.get(codec, ())
    caps = [c for c in (client.max_transcoding_bitrate, client.max_bitrate, policy.max_bitrate,
                        _ceiling(limits, "audioBitrate")) if c]
    bitrate = min(caps) if caps else LAN_TRANSCODE_BITRATE
    bitrate = max(info.min_bitrate, min(info.max_bitrate, bitrate))
    rate = output_rate(info, source.sample_rate or 48000, _ceiling(limits, "audioSamplerate"))
    channel_caps = [c for c in (2, source.channels, profile.max_channels, _ceiling(limits, "audioChannels")) if c]
    return Target(fmt, profile.container or sorted(_TARGETS[fmt][0])[0], codec, bitrate, rate, min(channel_caps))


def decide(source: Source, client: ClientInfo, policy: Policy) -> Decision:
    reasons = []
    for profile in client.direct:
        refusal = _direct_refusal(profile, source, client, policy)
        if refusal is None:
            return Decision(True, None, ())
        reasons.append(refusal)
    if not client.direct:
        reasons.append("the client lists no direct-play profile")
    candidates = [(p, _our_format(p)) for p in client.transcoding if p.protocol in ("http", "")]
    candidates = [(p, f) for p, f in candidates if f is not None]
    candidates.sort(key=lambda pf: pf[1] != policy.preferred)  # stable: the client's order otherwise
    if not candidates:
        return Decision(False, None, tuple(reasons),
                        "no transcoding profile this node can produce (Opus/Ogg, AAC/ADTS or MP4, MP3 over http)")
    profile, fmt = candidates[0]
    return Decision(False, _target(fmt, profile, source, client, policy), tuple(reasons))


def encode_params(target: Target | None) -> str:
    """The ``transcodeParams`` token: what getTranscodeStream will produce (``raw`` for the original)."""
    if target is None:
        return "raw"
    return f"{target.format}-{target.bitrate}-{target.sample_rate}-{target.channels}"


def decode_params(token: str) -> tuple[str, int, int, int] | None:
    """(format, bitrate, sample rate, channels), None for ``raw``; ValueError when it is not ours."""
    if token == "raw":
        return None
    parts = token.split("-")
    if len(parts) != 4 or parts[0] not in FORMATS or not all(p.isdigit() and len(p) <= 7 for p in parts[1:]):
        raise ValueError(f"transcodeParams {token[:60]!r} did not come from getTranscodeDecision")
    fmt, bitrate, rate, channels = parts[0], int(parts[1]), int(parts[2]), int(parts[3])
    if channels not in (1, 2) or rate not in FORMATS[fmt].rates:
        raise ValueError(f"transcodeParams {token[:60]!r} did not come from getTranscodeDecision")
    return fmt, bitrate, rate, channels
