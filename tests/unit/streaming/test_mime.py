import pytest

from sonantica.node.streaming.mime import mime_for, mime_for_format
from sonantica.node.streaming.originals import content_disposition


@pytest.mark.parametrize(
    "name,mime",
    [
        ("a.flac", "audio/flac"),
        ("a.MP3", "audio/mpeg"),
        ("a.m4a", "audio/mp4"),
        ("a.aac", "audio/aac"),
        ("a.ogg", "audio/ogg"),
        ("a.opus", "audio/ogg; codecs=opus"),
        ("a.wav", "audio/wav"),
        ("a.aiff", "audio/aiff"),
        ("a.aif", "audio/aiff"),
        ("a.wv", "audio/x-wavpack"),
        ("a.ape", "audio/x-ape"),
        ("/x/y/noext", "application/octet-stream"),
    ],
)
def test_mime_for(name, mime):
    assert mime_for(name) == mime


def test_mime_for_format():
    assert mime_for_format("opus") == "audio/ogg; codecs=opus"
    assert mime_for_format("aac") == "audio/aac"
    assert mime_for_format("m4a") == "audio/mp4"
    assert mime_for_format("mp3") == "audio/mpeg"


@pytest.mark.parametrize(
    "name,expected",
    [
        ("song.flac", "attachment; filename=\"song.flac\"; filename*=UTF-8''song.flac"),
        ("Sigur Rós – Hoppípolla.flac",
         "attachment; filename=\"Sigur Ros  Hoppipolla.flac\"; "
         "filename*=UTF-8''Sigur%20R%C3%B3s%20%E2%80%93%20Hopp%C3%ADpolla.flac"),
        ('a"b\\c.mp3', "attachment; filename=\"c.mp3\"; filename*=UTF-8''c.mp3"),
        ('x"y%.mp3', "attachment; filename=\"x_y_.mp3\"; filename*=UTF-8''x%22y%25.mp3"),
        ("日本.flac", "attachment; filename=\".flac\"; filename*=UTF-8''%E6%97%A5%E6%9C%AC.flac"),
        ("", "attachment; filename=\"download\"; filename*=UTF-8''download"),
    ],
)
def test_content_disposition(name, expected):
    assert content_disposition(name) == expected
