"""The demo library: files, tags, covers, levels, and the musical facts of the plan."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import mutagen
import numpy as np
import pytest
import soundfile
from PIL import Image

from sonantica.node import demo
from sonantica.node.errors import ConfigError

SR = demo.SAMPLE_RATE


@pytest.fixture(scope="module")
def library(tmp_path_factory) -> tuple[Path, list[demo.DemoTrack]]:
    dest = tmp_path_factory.mktemp("demo")
    return dest, demo.generate_demo_library(dest, 0)


@pytest.fixture(scope="module")
def decoded(library) -> dict[str, np.ndarray]:
    dest, plan = library
    return {t.path: soundfile.read(dest / t.path, dtype="float32")[0] for t in plan}


# ---------------------------------------------------------------- the plan


@pytest.mark.parametrize("variant", demo.VARIANTS)
def test_plan_shape(variant):
    plan = demo.demo_plan(variant)
    assert 12 <= len(plan) <= 16
    assert 5 * 60 <= sum(t.duration for t in plan) <= 9 * 60
    assert all(20 <= t.duration <= 45 for t in plan)
    albums = {(t.albumartist, t.album) for t in plan}
    assert len(albums) >= 4
    assert len({t.artist for t in plan}) >= 3
    compilations = {t.album for t in plan if t.compilation}
    assert len(compilations) == 1
    comp = [t for t in plan if t.compilation]
    assert {t.albumartist for t in comp} == {"Various Artists"}
    assert len({t.artist for t in comp}) == len(comp) > 1
    assert any(t.disc_total == 2 for t in plan)
    assert any(len(t.genres) > 1 for t in plan)
    assert {t.subtype for t in plan} == {"PCM_16", "PCM_24", "MPEG_LAYER_III"}
    assert {t.art for t in plan} == {"embedded", "folder"}
    assert {t.mode for t in plan} == {"major", "minor"}
    assert len({t.path for t in plan}) == len(plan)
    assert [t for t in plan if t.shared] and all(t.shared == (t.title == demo.SHARED_TITLE)
                                                 for t in plan)


def test_plan_is_deterministic():
    assert demo.demo_plan(1) == demo.demo_plan(1)


def test_variants_have_different_artists_and_albums():
    plans = [demo.demo_plan(v) for v in demo.VARIANTS]
    for a, b in ((0, 1), (0, 2), (1, 2)):
        artists = [{t.artist for t in plans[v] if not t.shared} for v in (a, b)]
        albums = [{(t.albumartist, t.album) for t in plans[v]} for v in (a, b)]
        assert not artists[0] & artists[1]
        assert not albums[0] & albums[1]


def test_shared_recording_has_the_same_music_in_every_variant():
    shared = [next(t for t in demo.demo_plan(v) if t.shared) for v in demo.VARIANTS]
    music = {(t.artist, t.title, t.tonic, t.mode, t.bpm, t.progression, t.bars, t.seed,
              t.style, t.subtype, t.recording_id) for t in shared}
    assert len(music) == 1
    assert len({t.album for t in shared}) == len(shared)


def test_unknown_variant_is_refused():
    with pytest.raises(ValueError, match="variant"):
        demo.demo_plan(7)


def test_plan_rejects_a_track_that_breaks_its_facts():
    track = demo.demo_plan(0)[0]
    fields = {**track.__dict__, "bpm": 300}
    with pytest.raises(ValueError, match="bpm"):
        demo.DemoTrack(**fields)


# ---------------------------------------------------------------- harmony


@pytest.mark.parametrize(("symbol", "tonic", "mode", "notes"), [
    ("I", "C", "major", "C E G"),
    ("vi", "C", "major", "A C E"),
    ("V7", "C", "major", "G B D F"),
    ("ii7", "F", "major", "G Bb D F"),
    ("Imaj7", "Eb", "major", "Eb G Bb D"),
    ("i", "A", "minor", "A C E"),
    ("VI", "A", "minor", "F A C"),
    ("V", "A", "minor", "E Ab B"),
    ("bVII", "C", "major", "Bb D F"),
    ("vii°", "C", "major", "B D F"),
    (5, "C", "major", "F A C"),
    (2, "C", "major", "D F A"),
    (1, "C", "major", "C# F Ab"),
])
def test_chord_pitch_classes(symbol, tonic, mode, notes):
    names = [demo.NOTE_NAMES[pc] for pc in demo.chord_pitch_classes(symbol, tonic, mode)]
    assert names == notes.split()


def test_bad_chord_symbol_is_refused():
    with pytest.raises(ValueError, match="roman"):
        demo.chord_pitch_classes("Q7", "C", "major")


# ---------------------------------------------------------------- files and tags


def test_files_decode_to_the_planned_lengths(library):
    dest, plan = library
    for t in plan:
        info = soundfile.info(dest / t.path)
        assert (info.samplerate, info.channels) == (SR, 2), t.path
        assert info.subtype == t.subtype, t.path
        if t.format == "FLAC":
            assert info.frames == t.frames, t.path
        else:
            assert abs(info.frames - t.frames) < 0.1 * SR, t.path
        assert t.path.endswith(f".{t.format.lower()}")
    assert not list(dest.rglob("*.partial"))


def test_layout(library):
    dest, plan = library
    for t in plan:
        parts = t.path.split("/")
        assert parts[0] == t.albumartist.replace("/", "_")
        assert parts[-1].startswith(f"{t.track:02d} - ")
        if t.disc_total > 1:
            assert parts[2] == f"Disc {t.disc}"
    assert (dest / "Various Artists").is_dir()


def _tags(path: Path) -> dict:
    """The plan's fields as read back, from Vorbis comments or ID3."""
    audio = mutagen.File(path)
    if path.suffix == ".flac":
        c = audio.tags

        def one(key: str) -> str:
            return c[key][0] if key in c else ""

        track, _, track_total = one("TRACKNUMBER").partition("/")
        disc, _, disc_total = one("DISCNUMBER").partition("/")
        return dict(
            title=one("TITLE"), artist=one("ARTIST"), album=one("ALBUM"),
            albumartist=one("ALBUMARTIST"), date=one("DATE"), genres=tuple(c.get("GENRE", [])),
            composer=one("COMPOSER"), track=int(track),
            track_total=int(track_total or one("TRACKTOTAL")), disc=int(disc),
            disc_total=int(disc_total or one("DISCTOTAL")),
            compilation=one("COMPILATION") == "1", recording_id=one("MUSICBRAINZ_TRACKID"),
            album_id=one("MUSICBRAINZ_ALBUMID"), pictures=[p.data for p in audio.pictures],
        )
    t = audio.tags
    track, _, track_total = t["TRCK"].text[0].partition("/")
    disc, _, disc_total = t["TPOS"].text[0].partition("/")
    return dict(
        title=t["TIT2"].text[0], artist=t["TPE1"].text[0], album=t["TALB"].text[0],
        albumartist=t["TPE2"].text[0], date=str(t["TDRC"].text[0]),
        genres=tuple(t["TCON"].text), composer=t["TCOM"].text[0], track=int(track),
        track_total=int(track_total), disc=int(disc), disc_total=int(disc_total),
        compilation="TCMP" in t and t["TCMP"].text[0] == "1",
        recording_id=t["UFID:http://musicbrainz.org"].data.decode(),
        album_id=t["TXXX:MusicBrainz Album Id"].text[0],
        pictures=[f.data for f in t.getall("APIC")],
    )


def test_tags_read_back_as_planned(library):
    dest, plan = library
    for t in plan:
        tags = _tags(dest / t.path)
        pictures = tags.pop("pictures")
        assert tags == {key: getattr(t, key) for key in tags}, t.path
        assert len(pictures) == (1 if t.art == "embedded" else 0), t.path


def test_compilation_multidisc_and_multivalued_genres(library):
    dest, plan = library
    comp = [t for t in plan if t.compilation]
    for t in comp:
        tags = _tags(dest / t.path)
        assert tags["compilation"] and tags["albumartist"] == "Various Artists"
    assert len({_tags(dest / t.path)["artist"] for t in comp}) == len(comp)
    discs = [t for t in plan if t.disc_total == 2]
    assert {(_tags(dest / t.path)["disc"], _tags(dest / t.path)["disc_total"]) for t in discs} \
        == {(1, 2), (2, 2)}
    multi = [t for t in plan if len(t.genres) > 1]
    assert {t.format for t in multi} >= {"FLAC"}
    for t in multi:
        assert len(_tags(dest / t.path)["genres"]) == len(t.genres) > 1
    assert not any(_tags(dest / t.path)["compilation"] for t in plan if not t.compilation)


def test_slash_totals_are_written_as_planned(library):
    dest, plan = library
    for t in plan:
        if t.format != "FLAC":
            continue
        comments = mutagen.File(dest / t.path).tags
        assert ("/" in comments["TRACKNUMBER"][0]) == t.slash_totals
        assert ("TRACKTOTAL" in comments) == (not t.slash_totals)


def test_cover_art(library):
    dest, plan = library
    for t in plan:
        if t.art == "folder":
            data = (dest / t.album_dir / "cover.jpg").read_bytes()
        else:
            data = _tags(dest / t.path)["pictures"][0]
            assert not (dest / t.album_dir / "cover.jpg").exists()
        image = Image.open(io.BytesIO(data))
        assert (image.format, image.size) == ("JPEG", (600, 600))
        assert np.asarray(image).std() > 10  # not a flat colour
    covers = {(dest / t.album_dir / "cover.jpg").read_bytes() for t in plan if t.art == "folder"}
    assert len(covers) == len({t.album for t in plan if t.art == "folder"})


# ---------------------------------------------------------------- levels


def test_audio_is_neither_silent_nor_clipped(library, decoded):
    _, plan = library
    for t in plan:
        x = decoded[t.path]
        peak = float(np.max(np.abs(x)))
        rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))
        assert peak < 0.95, t.path
        assert 0.05 < rms < 0.3, t.path  # about -16 dBFS
        assert np.mean(np.abs(x) > 0.9) < 1e-4, t.path
        second = x[SR: 2 * SR]
        assert np.sqrt(np.mean(second**2)) > 0.03, t.path  # music from the start
        assert np.max(np.abs(x[-100:])) < 0.01, t.path  # faded out
        assert abs(float(np.mean(x))) < 0.01, t.path  # no DC


def test_render_piece_is_deterministic_and_shaped():
    a = demo.render_piece("G", "major", 120, ("I", "IV", "vi", "V"), 8, seed=3, style="pad")
    b = demo.render_piece("G", "major", 120, ("I", "IV", "vi", "V"), 8, seed=3, style="pad")
    assert a.dtype == np.float32 and a.shape == (round(demo.piece_duration(120, 8) * SR), 2)
    assert np.array_equal(a, b)
    c = demo.render_piece("G", "major", 120, ("I", "IV", "vi", "V"), 8, seed=4, style="pad")
    assert not np.array_equal(a, c)


# ---------------------------------------------------------------- musical facts

HOP = 256


def _onset_autocorrelation(x: np.ndarray) -> np.ndarray:
    """Autocorrelation of the spectral flux, normalised to 1 at lag 0."""
    mono = x.mean(axis=1)
    frames = np.lib.stride_tricks.sliding_window_view(mono, 1024)[::HOP] * np.hanning(1024)
    spectrum = np.log1p(100 * np.abs(np.fft.rfft(frames, axis=1)))
    flux = np.maximum(np.diff(spectrum, axis=0), 0).sum(axis=1)
    flux -= flux.mean()
    f = np.fft.rfft(flux, 2 * flux.size)
    ac = np.fft.irfft(f * np.conj(f))[: flux.size]
    return ac / ac[0]


def _at(ac: np.ndarray, lag: float) -> float:
    i = int(round(lag))
    return float(ac[i - 1: i + 2].max())


def _assert_beat_at(x: np.ndarray, bpm: float) -> None:
    ac = _onset_autocorrelation(x)
    period = 60 / bpm * SR / HOP  # in frames
    lags = np.arange(int(0.25 * SR / HOP), int(2.5 * SR / HOP))
    grid = np.abs(lags[:, None] - period / 2 * np.arange(1, 24)[None, :]).min(axis=1)
    on_grid = grid <= max(2.0, 0.03 * period)
    assert _at(ac, period) > 0.5
    assert ac[lags[~on_grid]].max() < 0.25  # nothing periodic off the beat grid
    assert _at(ac, period * 1.06) < 0.25 and _at(ac, period / 1.06) < 0.25
    assert on_grid[np.argmax(ac[lags])]  # the strongest period is a beat multiple


def test_drums_land_on_the_beat_at_the_stated_tempo(library, decoded):
    _, plan = library
    for t in plan[::2]:  # every style, both formats, 84 to 138 bpm
        _assert_beat_at(decoded[t.path], t.bpm)


@pytest.mark.parametrize("bpm", [87, 133])
def test_tempo_is_exact_for_any_bpm(bpm):
    x = demo.render_piece("D", "minor", bpm, ("i", "VI", "III", "VII"), 8, seed=11, style="keys")
    _assert_beat_at(x, bpm)
    with pytest.raises(AssertionError):
        _assert_beat_at(x, bpm * 1.05)


def test_first_beat_is_at_the_start(decoded):
    x = next(iter(decoded.values()))
    low = np.abs(x.mean(axis=1)[: SR // 2])
    assert np.argmax(low) < 0.05 * SR  # the kick on beat 1 leads


def test_pitch_content_is_in_the_stated_key(library, decoded):
    _, plan = library
    for t in plan[::2]:
        mono = decoded[t.path].mean(axis=1).astype(np.float64)
        size = 1 << (mono.size - 1).bit_length()  # a power of two: a fast transform
        power = np.abs(np.fft.rfft(mono, size)) ** 2
        freqs = np.fft.rfftfreq(size, 1 / SR)
        band = (freqs > 60) & (freqs < 2000)
        midi = np.round(69 + 12 * np.log2(freqs[band] / 440)).astype(int)
        chroma = np.bincount(midi % 12, weights=power[band], minlength=12)
        tonic = demo.NOTE_NAMES.index(t.tonic)
        scale = [(tonic + s) % 12 for s in demo.SCALES[t.mode]]
        assert chroma[scale].sum() / chroma.sum() > 0.7, t.path
        assert tonic in np.argsort(-chroma)[:3], t.path


# ---------------------------------------------------------------- variants, idempotence


def test_shared_recording_is_bit_identical_across_variants(library):
    """Synthesis is bit-identical, so the lossless file is too, in every variant."""
    dest, plan = library
    shared = [next(t for t in demo.demo_plan(v) if t.shared) for v in demo.VARIANTS]
    renders = [demo.render_track(t) for t in shared[:2]]
    assert np.array_equal(renders[0], renders[1])
    on_disk, _ = soundfile.read(dest / shared[0].path, dtype="float32")
    assert np.max(np.abs(on_disk - renders[1])) <= 1.01 / 32767  # 16-bit quantisation
    assert _tags(dest / shared[0].path)["album"] != shared[1].album


def test_variants_have_different_music_but_the_shared_recording():
    seeds = [{t.seed for t in demo.demo_plan(v) if not t.shared} for v in demo.VARIANTS]
    assert not (seeds[0] & seeds[1]) and not (seeds[0] & seeds[2]) and not (seeds[1] & seeds[2])


def test_a_completed_library_is_not_regenerated(library):
    dest, plan = library
    marker = json.loads((dest / demo.MARKER_FILE).read_text())
    assert marker["variant"] == 0 and len(marker["tracks"]) == len(plan)
    before = {t.path: (dest / t.path).stat().st_mtime_ns for t in plan}
    started = time.monotonic()
    assert demo.generate_demo_library(dest, 0) == plan
    assert time.monotonic() - started < 0.5
    assert {t.path: (dest / t.path).stat().st_mtime_ns for t in plan} == before


def test_another_variant_in_the_same_folder_is_refused(library):
    dest, _ = library
    with pytest.raises(ConfigError, match="variant 0"):
        demo.generate_demo_library(dest, 1)


def test_demo_ships_synced_lyrics_and_artist_pictures(library):
    """A new user sees lyrics and artist pictures with no network (docs/metadata.md is off by default)."""
    from sonantica.node.library.lyrics import parse_lrc

    dest, plan = library
    lyric = demo.lyric_tracks(plan)
    assert len(lyric) >= 2
    for t in lyric:
        parsed = parse_lrc((dest / (t.path.rsplit(".", 1)[0] + ".lrc")).read_text("utf-8"))
        assert parsed["synced"] and len(parsed["lines"]) >= 4
        assert parsed["lines"][-1]["start_ms"] < t.duration * 1000
    for artist in demo.pictured_artists(plan):
        folder = next(t.path.split("/")[0] for t in plan if t.albumartist == artist)
        with Image.open(dest / folder / "artist.jpg") as im:
            assert im.format == "JPEG" and im.size == (600, 600)
