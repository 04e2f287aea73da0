"""The transcoding decision (OpenSubsonic ``transcoding``): client profiles × the node's LAN/WAN policy."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from sonantica.node.api.subsonic.transcoding import policy_for
from sonantica.node.streaming.decision import (
    BadClientInfo,
    Policy,
    Source,
    decide,
    decode_params,
    encode_params,
    parse_client_info,
)

HIRES = Source("flac", "flac", 4_600_000, 96000, 24, 2)
MP3 = Source("mp3", "mp3", 192_000, 44100, None, 2)
LAN, OPEN_WAN = Policy(True, None, None), Policy(False, None, None)
CONFIG = SimpleNamespace(default_format_lan="raw", default_format_wan="opus", default_bitrate_wan=128)

SONOS = {
    "name": "Play:1", "platform": "Sonos", "maxAudioBitrate": 512000, "maxTranscodingAudioBitrate": 256000,
    "directPlayProfiles": [{"containers": ["mp3"], "audioCodecs": ["mp3"], "protocols": ["http"], "maxAudioChannels": 2},
                           {"containers": ["flac"], "audioCodecs": ["flac"], "protocols": [], "maxAudioChannels": 2}],
    "transcodingProfiles": [{"container": "mp3", "audioCodec": "mp3", "protocol": "http", "maxAudioChannels": 2},
                            {"container": "flac", "audioCodec": "flac", "protocol": "hls"}],
    "codecProfiles": [{"type": "AudioCodec", "name": "mp3", "limitations": [
        {"name": "audioBitrate", "comparison": "LessThanEqual", "values": ["320000"], "required": True}]},
        {"type": "AudioCodec", "name": "flac", "limitations": [
            {"name": "audioSamplerate", "comparison": "LessThanEqual", "values": ["48000"], "required": False}]}],
}


def client(**changes):
    return parse_client_info({**SONOS, **changes})


def test_the_specs_example_client_plays_mp3_as_is_and_transcodes_hires_flac():
    assert decide(MP3, client(), LAN).direct
    out = decide(HIRES, client(), LAN)
    assert not out.direct and out.reasons[0] == "container flac not supported"
    assert "audioSamplerate 96000" in out.reasons[1]  # one reason per direct-play profile
    t = out.target
    assert (t.format, t.codec, t.sample_rate, t.channels) == ("mp3", "mp3", 48000, 2)
    assert t.bitrate == 256_000  # maxTranscodingAudioBitrate under maxAudioBitrate and the mp3 limit


def test_a_flac_client_gets_the_original_on_the_lan_not_past_the_users_wan_ceiling():
    flac_only = client(directPlayProfiles=[{"containers": [], "audioCodecs": ["flac"], "protocols": []}],
                       maxAudioBitrate=None, codecProfiles=[])
    assert decide(HIRES, flac_only, LAN).direct
    wan = policy_for(CONFIG, {}, local=False)
    assert (wan.max_bitrate, wan.preferred) == (128_000, "opus")
    out = decide(HIRES, flac_only, wan)
    assert out.reasons == ("bitrate 4600000 above this user's WAN limit 128000",)
    assert out.target.format == "mp3" and out.target.bitrate == 128_000  # opus is not in this client's list
    opus_too = client(transcodingProfiles=[{"container": "mp3", "audioCodec": "mp3", "protocol": "http"},
                                           {"container": "ogg", "audioCodec": "opus", "protocol": "http"}])
    assert decide(HIRES, opus_too, wan).target.format == "opus"  # the user's WAN format goes first
    mine = policy_for(CONFIG, {"format_lan": "aac", "bitrate_wan": 96}, local=True)
    assert (mine.max_bitrate, mine.preferred) == (96_000, "aac")


def test_channels_and_sample_rate_follow_the_clients_limits():
    mono = client(directPlayProfiles=[], transcodingProfiles=[
        {"container": "mp4", "audioCodec": "aac", "protocol": "http", "maxAudioChannels": 1}],
        codecProfiles=[{"type": "AudioCodec", "name": "aac", "limitations": [
            {"name": "audioSamplerate", "comparison": "LessThanEqual", "values": ["32000"], "required": True}]}])
    out = decide(Source("flac", "flac", 1_000_000, 44100, 16, 2), mono, LAN)
    assert out.reasons == ("the client lists no direct-play profile",)
    t = out.target
    assert (t.format, t.container, t.channels, t.sample_rate) == ("m4a", "mp4", 1, 22050)


def test_nothing_we_can_make_is_explained():
    hls_only = client(directPlayProfiles=[], transcodingProfiles=[
        {"container": "ts", "audioCodec": "aac", "protocol": "hls"}])
    out = decide(HIRES, hls_only, LAN)
    assert not out.direct and out.target is None and "no transcoding profile" in out.error


def test_required_decides_what_an_unknown_value_does():
    unknown_depth = Source("mp3", "mp3", 192_000, 44100, None, 2)
    for required, plays in ((True, False), (False, True)):
        c = client(codecProfiles=[{"type": "AudioCodec", "name": "mp3", "limitations": [
            {"name": "audioBitdepth", "comparison": "Equals", "values": ["16"], "required": required}]}])
        assert decide(unknown_depth, c, LAN).direct is plays


@pytest.mark.parametrize("body,where", [
    ([], "ClientInfo"),
    ({"name": "x", "platform": "y", "maxAudioBitrate": "lots"}, "maxAudioBitrate"),
    ({"name": "x", "platform": "y", "directPlayProfiles": [{"containers": "flac"}]}, "containers"),
    ({"name": "x", "platform": "y", "codecProfiles": [{"name": "mp3", "limitations": [
        {"name": "volume", "comparison": "Equals", "values": [], "required": True}]}]}, "name must be one of"),
    ({"name": "x", "platform": "y", "transcodingProfiles": [{}] * 65}, "at most 64"),
])
def test_bad_client_info_names_the_field(body, where):
    with pytest.raises(BadClientInfo, match=where):
        parse_client_info(body)


def test_params_round_trip_and_refuse_forgeries():
    t = decide(HIRES, client(), LAN).target
    assert decode_params(encode_params(t)) == ("mp3", 256_000, 48000, 2)
    assert decode_params(encode_params(None)) is None
    for forged in ("flac-1-2-3", "mp3-128000-96000-2", "mp3-128000-44100-6", "../etc", "mp3-1e9-44100-2"):
        with pytest.raises(ValueError):
            decode_params(forged)
