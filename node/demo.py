"""A demo library: synthesised music with realistic tags and cover art.

With no music folder configured, ``make run`` fills a folder of the data
directory with a small library so that there is something to browse and play.
Everything is generated here, deterministically: the music by additive
synthesis in numpy, the covers with Pillow, the tags with mutagen.

Theory of operation
-------------------
:func:`demo_plan` is pure data: one frozen :class:`DemoTrack` per file, with
its tags, its path and the musical facts (key, mode, tempo, bars, seed, style)
from which :func:`render_track` synthesises it. Tests, and the analysis
features, rely on those facts, so the synthesis keeps them exactly:

* equal temperament (A4 = 440 Hz); every chord is diatonic to ``tonic``/``mode``
  (a minor key may borrow its major V), voiced close to the previous chord;
  the bass plays the chord roots; the piece ends on the tonic chord;
* drums from the first sample at exactly ``bpm``: kick on beats 1 and 3,
  snare on 2 and 4, straight eighth-note hats; onsets are placed to the
  nearest sample of ``beat * 60 / bpm`` seconds;
* ``bars`` groove bars, then one bar on the tonic chord and :data:`TAIL_S`
  seconds of decay: :func:`piece_duration` gives the exact length.

:func:`generate_demo_library` renders and writes the files (in a few
threads: numpy, libsndfile and LAME release the GIL), the folder covers, then
a marker file last; when the marker is there,
it returns the plan and touches nothing. A marker of an older
:data:`DEMO_VERSION` means the files are written again.

Variants 0, 1 and 2 have different artists and albums (one library per node
of the local federation demo), except one recording, ``"Common Ground"`` by
Ada Reyes, whose audio is bit-identical in every variant (same synthesis
seed, lossless 16-bit FLAC) though it sits on a different compilation.
"""

from __future__ import annotations

import functools
import io
import itertools
import json
import math
import os
import re
import unicodedata
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from .errors import ConfigError, FileOperationError

__all__ = [
    "DEMO_VERSION",
    "MARKER_FILE",
    "SAMPLE_RATE",
    "SHARED_ARTIST",
    "SHARED_TITLE",
    "NOTE_NAMES",
    "SCALES",
    "STYLES",
    "VARIANTS",
    "DemoTrack",
    "chord_pitch_classes",
    "cover_jpeg",
    "demo_plan",
    "generate_demo_library",
    "piece_duration",
    "render_piece",
    "render_track",
]

SAMPLE_RATE = 44100
TAIL_S = 1.5
DEMO_VERSION = 1
MARKER_FILE = ".sonantica-demo.json"
SHARED_ARTIST = "Ada Reyes"
SHARED_TITLE = "Common Ground"
VARIANTS = (0, 1, 2)

NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_PITCH_CLASS = {name: pc for pc, name in enumerate(NOTE_NAMES)} | {
    "Db": 1, "D#": 3, "Gb": 6, "G#": 8, "A#": 10,
}
SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}
STYLES = ("keys", "pad", "arp")
_NUMERALS = ("I", "II", "III", "IV", "V", "VI", "VII")
_ROMAN = re.compile(r"^([b#]?)(I{1,3}|IV|VI{0,2}|i{1,3}|iv|vi{0,2})(°|o|dim)?(maj7|7)?$")


# ---------------------------------------------------------------- harmony


def chord_pitch_classes(symbol: str | int, tonic: str, mode: str) -> tuple[int, ...]:
    """Absolute pitch classes of a chord, root first.

    ``symbol`` is a roman numeral relative to the key ("I", "vi", "V7",
    "bVII", "ii°", "Imaj7"; upper case major, lower case minor) or an int, the
    root in semitones above the tonic, whose triad is then stacked from the
    scale (a major triad if the root is not in the scale).
    """
    tonic_pc = _PITCH_CLASS[tonic]
    scale = SCALES[mode]
    if isinstance(symbol, int):
        root = symbol % 12
        intervals = _diatonic_triad(root, scale)
    else:
        root, intervals = _parse_roman(symbol, scale)
    return tuple((tonic_pc + root + i) % 12 for i in intervals)


def _diatonic_triad(root: int, scale: tuple[int, ...]) -> tuple[int, ...]:
    if root not in scale:
        return (0, 4, 7)
    degree = scale.index(root)
    third = (scale[(degree + 2) % 7] - root) % 12
    fifth = (scale[(degree + 4) % 7] - root) % 12
    return (0, third, fifth)


def _parse_roman(symbol: str, scale: tuple[int, ...]) -> tuple[int, tuple[int, ...]]:
    match = _ROMAN.match(symbol)
    if match is None:
        raise ValueError(f"not a roman numeral chord: {symbol!r}")
    accidental, numeral, diminished, seventh = match.groups()
    root = scale[_NUMERALS.index(numeral.upper())] + {"": 0, "b": -1, "#": 1}[accidental]
    if diminished:
        intervals = [0, 3, 6]
    elif numeral.isupper():
        intervals = [0, 4, 7]
    else:
        intervals = [0, 3, 7]
    if seventh:
        intervals.append(11 if seventh == "maj7" else 10)
    return root % 12, tuple(intervals)


def _voice(pcs: tuple[int, ...], previous: tuple[int, ...] | None) -> tuple[int, ...]:
    """Close voicing (within an octave, F3–F5) moving least from ``previous``."""
    options = [[m for m in range(53, 78) if m % 12 == pc] for pc in pcs]
    best, best_cost = None, math.inf
    for combo in itertools.product(*options):
        notes = tuple(sorted(combo))
        if notes[-1] - notes[0] > 12:
            continue
        centre = abs(sum(notes) / len(notes) - 64)
        if previous is None:
            cost = centre
        else:
            cost = sum(min(abs(n - p) for p in previous) for n in notes) + 0.3 * centre
        if cost < best_cost:
            best, best_cost = notes, cost
    assert best is not None
    return best


# ---------------------------------------------------------------- timbres


def _hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69) / 12)


# Partial amplitudes; decay rate (1/s) of the fundamental and its increase per
# partial (higher partials die sooner, as on a struck or plucked string);
# attack (s); stereo detune (cents, + left, - right: a slow chorus); length (s).
_TIMBRES = {
    "keys": ((1.0, 0.5, 0.3, 0.16, 0.09, 0.05, 0.03), 1.4, 1.8, 0.004, 3.0, 2.0),
    "pad": ((1.0, 0.38, 0.2, 0.1, 0.05, 0.03, 0.015), 0.15, 0.0, 0.28, 6.0, 4.5),
    "bass": ((1.0, 0.55, 0.28, 0.13, 0.06), 0.9, 1.5, 0.004, 0.0, 4.5),
    "lead": ((1.0, 0.22, 0.07, 0.03), 1.8, 2.4, 0.008, 2.0, 2.5),
    "pluck": ((1.0, 0.3, 0.12, 0.05), 6.0, 4.5, 0.002, 4.0, 0.5),
}


@functools.lru_cache(maxsize=96)
def _tone(kind: str, midi: int) -> np.ndarray:
    """A stereo note of ``kind`` at full length, to be gated by the caller.

    Partial k is Im(a_k e^{ik} z^k e^{-d0 t}) with z = e^{(iw - d1) t}: one
    cosine and sine per channel, then products, instead of a sine and an
    exponential per partial.
    """
    amps, d0, d1, attack, detune, seconds = _TIMBRES[kind]
    t64 = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    t = t64.astype(np.float32)
    out = np.zeros((2, t.size), np.float32)
    for channel, cents in enumerate((detune, -detune) if detune else (0,)):
        w = 2 * np.pi * _hz(midi) * 2.0 ** (cents / 1200)
        phase = ((w * t64) % (2 * np.pi)).astype(np.float32)
        z = np.empty(t.size, np.complex64)
        z.real, z.imag = np.cos(phase), np.sin(phase)
        z *= np.exp(np.float32(-d1) * t)
        power = np.exp(np.float32(-d0) * t).astype(np.complex64)
        acc = np.zeros(t.size, np.complex64)
        for k, amp in enumerate(amps, start=1):
            if w * k / (2 * np.pi) > SAMPLE_RATE * 0.45:
                break
            power *= z
            acc += np.complex64(amp * np.exp(1j * k)) * power
        out[channel] = acc.imag
    if not detune:
        out[1] = out[0]
    ramp = np.minimum(t / np.float32(attack), 1)
    out *= (0.5 - 0.5 * np.cos(np.pi * ramp)) / np.float32(sum(amps))
    out.flags.writeable = False  # shared through the cache
    return out


_RELEASE_S = {"keys": 0.15, "pad": 0.6, "bass": 0.05, "lead": 0.1, "pluck": 0.05}


@functools.lru_cache(maxsize=128)
def _note(kind: str, midi: int, hold_s: float) -> np.ndarray:
    """A note held ``hold_s`` seconds, then released with a raised-cosine fade."""
    hold = int(hold_s * SAMPLE_RATE)
    release = int(_RELEASE_S[kind] * SAMPLE_RATE)
    tone = _tone(kind, midi)[:, : hold + release]
    gate = np.ones(tone.shape[1], np.float32)
    tail = gate[hold:]
    tail[:] = 0.5 + 0.5 * np.cos(np.pi * np.arange(tail.size) / max(release, 1))
    note = tone * gate
    note.flags.writeable = False
    return note


@functools.lru_cache(maxsize=4)
def _drum_kit(number: int) -> dict[str, np.ndarray]:
    """Drum kit ``number``: the noises differ a little from kit to kit."""
    rng = np.random.default_rng(number)
    sr = SAMPLE_RATE

    def t_of(seconds: float) -> np.ndarray:
        return np.arange(int(seconds * sr)) / sr

    t = t_of(0.45)
    sweep = 48 + 110 * np.exp(-t / 0.035)
    kick = np.sin(2 * np.pi * np.cumsum(sweep) / sr) * np.exp(-t / 0.16)
    kick += 0.25 * _highpass(rng.standard_normal(t.size), 1500) * np.exp(-t / 0.003)
    t = t_of(0.3)
    snare = 0.8 * _highpass(rng.standard_normal(t.size), 1200) * np.exp(-t / 0.075)
    snare += 0.6 * np.sin(2 * np.pi * 185 * t) * np.exp(-t / 0.045)
    snare += 0.3 * np.sin(2 * np.pi * 330 * t) * np.exp(-t / 0.03)
    t = t_of(0.08)
    hat = _highpass(rng.standard_normal(t.size), 6000) * np.exp(-t / 0.016)
    t = t_of(0.5)
    open_hat = _highpass(rng.standard_normal(t.size), 6500) * np.exp(-t / 0.11)
    t = t_of(2.0)
    crash = _highpass(rng.standard_normal(t.size), 4500) * np.exp(-t / 0.55)
    kit = {"kick": kick, "snare": snare, "hat": hat, "open_hat": open_hat, "crash": crash}
    kit = {name: _ramped(s / np.max(np.abs(s))).astype(np.float32) for name, s in kit.items()}
    for sound in kit.values():
        sound.flags.writeable = False
    return kit


def _highpass(x: np.ndarray, cutoff_hz: float) -> np.ndarray:
    spectrum = np.fft.rfft(x)
    freqs = np.fft.rfftfreq(x.size, 1 / SAMPLE_RATE)
    spectrum *= 1 / (1 + (cutoff_hz / np.maximum(freqs, 1.0)) ** 4)
    return np.fft.irfft(spectrum, x.size)


def _ramped(x: np.ndarray) -> np.ndarray:
    x = x.copy()
    n = min(64, x.size // 4)
    x[:8] *= np.linspace(0.2, 1, 8)
    x[-n:] *= np.linspace(1, 0, n)
    return x


# ---------------------------------------------------------------- arrangement

# Per style, one bar: chord hits (beat, beats held, velocity) and bass notes
# (beat, beats held, chord tone: 0 root, 2 fifth, 12 root an octave up).
_COMP = {
    "keys": ((0, 1.4, 0.8), (1.5, 1.4, 0.6), (3, 0.9, 0.65)),
    "pad": ((0, 3.9, 0.75),),
    "arp": ((0, 3.9, 0.45),),
}
_BASS = {
    "keys": ((0, 1.4, 0), (1.5, 0.45, 0), (2, 0.9, 2), (3, 0.45, 0), (3.5, 0.45, 12)),
    "pad": ((0, 2.4, 0), (2.5, 0.45, 0), (3, 0.9, 2)),
    "arp": tuple((i / 2, 0.4, 0) for i in range(8)),
}
# Melody rhythms in eighths within a bar: (start, length).
_RHYTHMS = (
    ((0, 2), (2, 1), (3, 1), (4, 4)),
    ((0, 3), (3, 1), (4, 2), (6, 2)),
    ((1, 1), (2, 2), (4, 3)),
    ((0, 2), (2, 2), (4, 2), (6, 2)),
    ((0, 4), (4, 2), (6, 1), (7, 1)),
)
_CADENCE = ((0, 6),)


def piece_duration(bpm: float, bars: int) -> float:
    """Seconds of a piece: ``bars`` groove bars, a final tonic bar, the tail."""
    return (bars + 1) * 4 * 60 / bpm + TAIL_S


class _Track:
    """Two stereo buses (dry, reverb send) that notes are added into."""

    def __init__(self, bpm: float, frames: int) -> None:
        self.samples_per_beat = 60 * SAMPLE_RATE / bpm
        self.dry = np.zeros((2, frames), np.float32)
        self.send = np.zeros((2, frames), np.float32)

    def add(self, sound: np.ndarray, beat: float, gain: float, pan: float = 0.0,
            send: float = 0.0) -> None:
        """Mix ``sound`` (stereo, or mono placed at ``pan``) in at ``beat``."""
        start = round(beat * self.samples_per_beat)
        end = min(start + sound.shape[-1], self.dry.shape[1])
        if end <= start:
            return
        part = sound[..., : end - start]
        if sound.ndim == 1:
            angle = (pan + 1) * np.pi / 4
            gains = [gain * math.sqrt(2) * math.cos(angle), gain * math.sqrt(2) * math.sin(angle)]
        else:
            gains = [gain, gain]
        for channel, g in enumerate(gains):
            samples = part if sound.ndim == 1 else part[channel]
            self.dry[channel, start:end] += np.float32(g) * samples
            if send:
                self.send[channel, start:end] += np.float32(g * send) * samples

    def seconds(self, beats: float) -> float:
        return beats * self.samples_per_beat / SAMPLE_RATE


def render_piece(tonic: str, mode: str, bpm: float, progression: tuple[str | int, ...],
                 bars: int, seed: int, style: str = "keys") -> np.ndarray:
    """Synthesise a piece: float32, shape (frames, 2), 44.1 kHz, peak < 1.

    One chord of ``progression`` per bar, looped for ``bars`` bars, then a
    final bar on the tonic chord. ``seed`` decides the melody, the drum
    samples and small velocity variations; the same arguments always give
    the same samples.
    """
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; one of {STYLES}")
    rng = np.random.default_rng(seed)
    chords = [chord_pitch_classes(s, tonic, mode) for s in progression]
    voicings = _voicings(chords)
    track = _Track(bpm, round(piece_duration(bpm, bars) * SAMPLE_RATE))
    for bar in range(bars):
        index = bar % len(chords)
        _play_bar(track, style, bar, chords[index], voicings[index], rng)
    if style == "arp":
        _play_arpeggio(track, bars, voicings, rng)
    else:
        _play_melody(track, bars, chords, SCALES[mode], _PITCH_CLASS[tonic], rng)
    _play_drums(track, bars, _drum_kit(seed % 3))
    _play_ending(track, bars, chord_pitch_classes("i" if mode == "minor" else "I", tonic, mode),
                 voicings[-1])
    return _master(track.dry + _reverb(track.send, seed))


def _voicings(chords: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    voicings, previous = [], None
    for pcs in chords:
        previous = _voice(pcs, previous)
        voicings.append(previous)
    return voicings


def _play_bar(track: _Track, style: str, bar: int, pcs: tuple[int, ...],
              voicing: tuple[int, ...], rng: np.random.Generator) -> None:
    kind = "keys" if style == "keys" else "pad"
    for beat, held, velocity in _COMP[style]:
        velocity *= 1 + 0.05 * rng.standard_normal()
        for i, midi in enumerate(voicing):
            pan = -0.3 + 0.6 * i / max(len(voicing) - 1, 1)
            track.add(_note(kind, midi, track.seconds(held)), bar * 4 + beat,
                      0.2 * velocity, pan, send=0.35)
    root = 36 + pcs[0]
    for beat, held, tone in _BASS[style]:
        midi = root + (12 if tone == 12 else (pcs[tone] - pcs[0]) % 12)
        track.add(_note("bass", midi, track.seconds(held)), bar * 4 + beat,
                  0.3 * (1 + 0.04 * rng.standard_normal()))


def _play_melody(track: _Track, bars: int, chords: list[tuple[int, ...]],
                 scale: tuple[int, ...], tonic_pc: int, rng: np.random.Generator) -> None:
    """Two phrases over the loop, A then B, from the second loop to the last."""
    scale_pcs = {(tonic_pc + s) % 12 for s in scale}
    pool = [m for m in range(64, 87) if m % 12 in scale_pcs]
    phrases = [_phrase(chords, pool, tonic_pc, rng) for _ in range(2)]
    loop = len(chords)
    for n, first_bar in enumerate(range(loop, bars, loop)):
        for beat, held, midi in phrases[n % 2]:
            track.add(_note("lead", midi, track.seconds(held)), first_bar * 4 + beat,
                      0.4, 0.15, send=0.45)


def _phrase(chords: list[tuple[int, ...]], pool: list[int], tonic_pc: int,
            rng: np.random.Generator) -> list[tuple[float, float, int]]:
    previous = min((m for m in pool if m % 12 in chords[0]), key=lambda m: abs(m - 74))
    notes = []
    for bar, pcs in enumerate(chords):
        rhythm = _CADENCE if bar == len(chords) - 1 else _RHYTHMS[rng.integers(len(_RHYTHMS))]
        for start, length in rhythm:
            if start % 2 == 0:  # on the beat: a chord tone near the last note
                near = [m for m in pool if m % 12 in pcs and 0 < abs(m - previous) <= 5]
                if near:  # small steps, towards the middle of the range and the tonic
                    weights = np.array([(2 if m % 12 == tonic_pc else 1) / abs(m - previous)
                                        / (1 + abs(m - 76) / 4) for m in near])
                    previous = int(rng.choice(near, p=weights / weights.sum()))
            else:  # off the beat: a step along the scale
                i = pool.index(previous) + int(rng.choice((-1, 1)))
                previous = pool[min(max(i, 0), len(pool) - 1)]
            notes.append((bar * 4 + start / 2, length / 2 * 0.9, previous))
    return notes


def _play_arpeggio(track: _Track, bars: int, voicings: list[tuple[int, ...]],
                   rng: np.random.Generator) -> None:
    """Sixteenths up and down the chord over two octaves, from the second loop."""
    for bar in range(len(voicings), bars):
        voicing = voicings[bar % len(voicings)]
        up = list(voicing) + [m + 12 for m in voicing]
        order = up + up[-2:0:-1]
        for step in range(16):
            accent = 1.0 if step % 4 == 0 else 0.7
            velocity = accent * (1 + 0.05 * rng.standard_normal())
            track.add(_note("pluck", order[step % len(order)], track.seconds(0.22)),
                      bar * 4 + step / 4, 0.3 * velocity, 0.3 if step % 2 else -0.3,
                      send=0.4)


def _play_drums(track: _Track, bars: int, kit: dict[str, np.ndarray]) -> None:
    """Kick on 1 and 3, snare on 2 and 4, straight eighth hats."""
    for bar in range(bars):
        b = bar * 4
        for beat in (0, 2):
            track.add(kit["kick"], b + beat, 0.6)
        for beat in (1, 3):
            track.add(kit["snare"], b + beat, 0.4, send=0.15)
        for eighth in range(8):
            if eighth == 7 and bar % 4 == 3:
                track.add(kit["open_hat"], b + 3.5, 0.09, 0.35)
            else:
                track.add(kit["hat"], b + eighth / 2, 0.12 if eighth % 2 == 0 else 0.08, 0.35)
    track.add(kit["kick"], bars * 4, 0.6)
    track.add(kit["crash"], bars * 4, 0.1, -0.25, send=0.2)


def _play_ending(track: _Track, bars: int, tonic_chord: tuple[int, ...],
                 last_voicing: tuple[int, ...]) -> None:
    voicing = _voice(tonic_chord, last_voicing)
    hold = track.seconds(4) + TAIL_S * 0.5
    for i, midi in enumerate(voicing):
        track.add(_note("pad", midi, hold), bars * 4, 0.16, -0.3 + 0.2 * i, send=0.4)
        track.add(_note("keys", midi, 1.5), bars * 4, 0.12, 0.3 - 0.2 * i, send=0.4)
    track.add(_note("bass", 36 + tonic_chord[0], hold), bars * 4, 0.3)


def _reverb(send: np.ndarray, seed: int) -> np.ndarray:
    """Convolution with a decaying noise tail, at a quarter rate (reverb is dark)."""
    rate = 4
    rng = np.random.default_rng(seed ^ 0x5EED)
    frames = send.shape[1] // rate * rate
    low = send[:, :frames].reshape(2, -1, rate).mean(axis=2)
    sr = SAMPLE_RATE / rate
    t = np.arange(int(1.6 * sr)) / sr
    ir = rng.standard_normal((2, t.size)) * np.exp(-t / 0.32)
    ir[:, : int(0.012 * sr)] = 0  # pre-delay
    ir /= np.sqrt(np.sum(ir**2, axis=1, keepdims=True)) * 2.2
    n = _fast_len(low.shape[1] + t.size)
    wet = np.fft.irfft(np.fft.rfft(low, n) * np.fft.rfft(ir, n), n)[:, : low.shape[1]]
    step = np.arange(rate) / rate  # back to full rate, linearly
    full = wet[:, :-1, None] * (1 - step) + wet[:, 1:, None] * step
    out = np.zeros_like(send)
    out[:, : full.shape[1] * rate] = full.reshape(2, -1)
    return out


def _fast_len(n: int) -> int:
    """The least 2^a 3^b 5^c >= n, a size pocketfft transforms quickly."""
    best = 1 << (n - 1).bit_length()
    f5 = 1
    while f5 < best:
        f35 = f5
        while f35 < best:
            size = f35
            while size < n:
                size *= 2
            best = min(best, size)
            f35 *= 3
        f5 *= 5
    return best


def _master(mix: np.ndarray) -> np.ndarray:
    """DC removed, levelled to about -16 dBFS RMS, soft knee, peak -1 dBFS."""
    mix = mix - mix.mean(axis=1, keepdims=True)
    mix *= 10 ** (-16 / 20) / max(float(np.sqrt(np.mean(mix**2))), 1e-9)
    knee = 0.7
    over = np.abs(mix) > knee
    excess = (np.abs(mix[over]) - knee) / (1 - knee)
    mix[over] = np.sign(mix[over]) * (knee + (1 - knee) * np.tanh(excess))
    mix *= min(1.0, 10 ** (-1 / 20) / max(float(np.max(np.abs(mix))), 1e-9))
    fade_in = min(256, mix.shape[1])
    mix[:, :fade_in] *= np.linspace(0, 1, fade_in)
    fade_out = int(TAIL_S * SAMPLE_RATE)
    mix[:, -fade_out:] *= np.cos(np.linspace(0, np.pi / 2, fade_out)) ** 2
    return np.ascontiguousarray(mix.T, dtype=np.float32)


# ---------------------------------------------------------------- the plan


@dataclass(frozen=True)
class DemoTrack:
    """One file of the demo library: where it goes, its tags, its music.

    ``path`` is relative to the library folder (POSIX separators). ``genres``
    holds one tag value each. ``art`` is "embedded" (FLAC picture / ID3 APIC)
    or "folder" (``cover.jpg`` next to the album's files, above the disc
    folders). ``slash_totals`` FLACs carry "3/12" in TRACKNUMBER and
    DISCNUMBER instead of TRACKTOTAL/DISCTOTAL; MP3s always use "3/12".
    """

    path: str
    title: str
    artist: str
    album: str
    albumartist: str
    track: int
    track_total: int
    disc: int
    disc_total: int
    date: str
    genres: tuple[str, ...]
    composer: str
    compilation: bool
    format: str  # "FLAC" or "MP3"
    subtype: str  # "PCM_16", "PCM_24" or "MPEG_LAYER_III"
    art: str  # "embedded" or "folder"
    slash_totals: bool
    tonic: str
    mode: str
    bpm: int
    progression: tuple[str, ...]
    bars: int
    seed: int
    style: str
    shared: bool = False
    recording_id: str = field(default="", compare=False)
    album_id: str = field(default="", compare=False)
    artist_id: str = field(default="", compare=False)
    albumartist_id: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        checks = (
            (self.tonic in _PITCH_CLASS, f"unknown tonic {self.tonic!r}"),
            (self.mode in SCALES, f"mode must be major or minor, not {self.mode!r}"),
            (self.style in STYLES, f"unknown style {self.style!r}"),
            (40 <= self.bpm <= 220, f"bpm {self.bpm} out of 40..220"),
            (self.bars % len(self.progression) == 0, "bars must loop the progression"),
            (20 <= self.duration <= 45, f"{self.duration:.1f} s is not 20..45 s"),
            (1 <= self.track <= self.track_total, "track out of its total"),
            (1 <= self.disc <= self.disc_total, "disc out of its total"),
            ((self.format, self.subtype) in _SUBTYPES, f"{self.format}/{self.subtype}"),
            (self.art in ("embedded", "folder"), f"art {self.art!r}"),
        )
        for ok, reason in checks:
            if not ok:
                raise ValueError(f"demo track {self.title!r}: {reason}")

    @property
    def duration(self) -> float:
        """Exact length in seconds (MP3 decoders may add a few ms)."""
        return piece_duration(self.bpm, self.bars)

    @property
    def frames(self) -> int:
        return round(self.duration * SAMPLE_RATE)

    @property
    def key(self) -> str:
        return f"{self.tonic} {self.mode}"

    @property
    def album_dir(self) -> str:
        """The album's folder, where ``cover.jpg`` goes for "folder" art."""
        parts = self.path.split("/")
        return "/".join(parts[:2])


_SUBTYPES = {("FLAC", "PCM_16"), ("FLAC", "PCM_24"), ("MP3", "MPEG_LAYER_III")}


@dataclass(frozen=True)
class _Album:
    albumartist: str
    title: str
    date: str
    genres: tuple[str, ...]
    composer: str
    subtype: str
    art: str
    slash_totals: bool
    discs: tuple[tuple[str | tuple[str, str], ...], ...]  # titles, or (title, artist)
    compilation: bool = False


def _album(albumartist, title, date, genres, composer, subtype, art, slash, *discs,
           compilation=False) -> _Album:
    return _Album(albumartist, title, date, tuple(genres), composer, subtype, art, slash,
                  tuple(tuple(d) for d in discs), compilation)


_CATALOGUE: dict[int, tuple[_Album, ...]] = {
    0: (
        _album("The Lanterns", "Harbour Lights", "2019-04-12", ["Indie Pop"], "Jonah Ellison",
               "PCM_16", "folder", False, ["Harbour Lights", "Paper Boats", "Salt & Vinegar"]),
        _album("Mira Okafor", "Slow Orbit", "2021", ["Electronic", "Downtempo"], "Mira Okafor",
               "PCM_24", "embedded", True, ["Perihelion", "Night/Shift", "Low Earth"]),
        _album("Oskar Lind Trio", "Late Hours", "2022-11-04", ["Jazz", "Lounge"], "Oskar Lind",
               "PCM_16", "embedded", False, ["Blue Room", "Streetlamps"],
               ["After Midnight", "Coda for Two"]),
        _album("Dune Sailors", "Low Tide EP", "2020", ["Synthwave"], "Cal Moreno",
               "MPEG_LAYER_III", "embedded", True, ["Low Tide", "Coastline Drive", "What's Left?"]),
        _album("Various Artists", "Sonántica Sampler, Vol. 1", "2023", ["Electronic", "Pop"], "",
               "PCM_16", "folder", False,
               [(SHARED_TITLE, SHARED_ARTIST), ("Glasshouse", "Zoë Lindqvist"),
                ("Tidal", "Mira Okafor")], compilation=True),
    ),
    1: (
        _album("Cobalt Run", "Signal Fires", "2018-09-21", ["Rock", "Indie"], "Dana Whitfield",
               "PCM_16", "folder", False, ["Signal Fires", "Undertow", "Mile Markers"]),
        _album("Léa Marchand", "Papier Mâché", "2022", ["Chanson", "Pop"], "Léa Marchand",
               "PCM_24", "embedded", True, ["Papier Mâché", "Rue des Lilas", "Minuit"]),
        _album("Northbound Ensemble", "Four Seasons in Transit", "2020-03-20", ["Ambient"],
               "Ilse Brandt", "PCM_16", "embedded", False, ["Spring Platform", "Summer Ferry"],
               ["Autumn Tram", "Winter Night Bus"]),
        _album("Hollow Pines", "Campfire Tapes", "2017", ["Folk", "Acoustic"], "Ruth Calder",
               "MPEG_LAYER_III", "embedded", True, ["Kindling", "Embers", "Smoke Signals"]),
        _album("Various Artists", "Sonántica Sampler, Vol. 2", "2024", ["Pop", "Indie"], "",
               "PCM_16", "folder", False,
               [(SHARED_TITLE, SHARED_ARTIST), ("Velvet Static", "Tomás Quiroga"),
                ("Far Shore", "Léa Marchand")], compilation=True),
    ),
    2: (
        _album("The Meridians", "Compass Rose", "2016-06-03", ["Soul", "Funk"], "Marcus Hale",
               "PCM_16", "folder", False, ["Compass Rose", "True North", "Dead Reckoning"]),
        _album("Yuki Sato", "Lantern Festival", "2023", ["Electronic", "Ambient"], "Yuki Sato",
               "PCM_24", "embedded", True, ["Lantern Festival", "Paper Cranes", "Kōen"]),
        _album("Brass & Wire", "Workshop Sessions", "2021-10-15", ["Jazz"], "Ana Petrović",
               "PCM_16", "embedded", False, ["Soldering Iron", "Spare Parts"],
               ["Blueprint", "Overtime"]),
        _album("Pixel Tide", "Sunset Arcade", "2021", ["Chiptune", "Synthwave"], "Leo Brandt",
               "MPEG_LAYER_III", "embedded", True, ["Insert Coin", "High Score", "Continue?"]),
        _album("Various Artists", "Sonántica Sampler, Vol. 3", "2025", ["Soul", "Electronic"], "",
               "PCM_16", "folder", False,
               [(SHARED_TITLE, SHARED_ARTIST), ("Marigold", "Ines Duarte"),
                ("Driftwood", "Yuki Sato")], compilation=True),
    ),
}

# Progressions that state their key plainly (a key finder, or a listener,
# should not hear the relative major or minor): the minor ones cadence on the
# harmonic-minor V.
_PROGRESSIONS = {
    "major": (("I", "V", "vi", "IV"), ("I", "vi", "IV", "V"), ("I", "IV", "V", "I"),
              ("I", "IV", "vi", "V"), ("Imaj7", "IVmaj7", "ii7", "V7")),
    "minor": (("i", "VI", "iv", "V"), ("i", "VII", "VI", "V"), ("i", "VI", "III", "V"),
              ("i", "iv", "VI", "V"), ("i", "III", "iv", "V")),
}
_TONICS = ("C", "D", "Eb", "E", "F", "G", "A", "Bb", "B")
_TEMPOS = (84, 90, 96, 100, 105, 110, 116, 120, 124, 128, 132, 138)
_NAMESPACE = uuid.UUID("5f0c8a52-9d3e-4e52-9b1c-50a7a7c1ca11")


_VARIOUS_ARTISTS_MBID = "89ad4ac3-39f7-470e-963a-56509c546377"  # MusicBrainz's own


def _mbid(kind: str, *names: str) -> str:
    """A stable MusicBrainz-shaped id (not a real MusicBrainz entity)."""
    if (kind, *names) == ("artist", "Various Artists"):
        return _VARIOUS_ARTISTS_MBID
    return str(uuid.uuid5(_NAMESPACE, "\x1f".join((kind, *names))))


def _music(artist: str, title: str) -> dict:
    """Key, tempo, progression, length and style, decided by artist and title.

    So one recording (the shared one) sounds the same in every variant.
    """
    seed = zlib.crc32(f"{artist}\x1f{title}".encode())
    rng = np.random.default_rng(seed)
    mode = ("major", "minor")[int(rng.integers(2))]
    progression = _PROGRESSIONS[mode][int(rng.integers(len(_PROGRESSIONS[mode])))]
    bpm = int(rng.choice(_TEMPOS))
    target = rng.uniform(22, 32)
    fits = [b for b in range(4, 40, len(progression)) if 21 <= piece_duration(bpm, b) <= 44]
    bars = min(fits, key=lambda b: abs(piece_duration(bpm, b) - target))
    return dict(tonic=str(rng.choice(_TONICS)), mode=mode, bpm=bpm, progression=progression,
                bars=bars, seed=seed, style=str(rng.choice(STYLES)))


def _safe(name: str) -> str:
    """A file-name component: no separators or characters Windows refuses."""
    return re.sub(r'[<>:"/\\|?*\x00-\x1f]', "_", name).strip(" .") or "_"


def demo_plan(variant: int = 0) -> list[DemoTrack]:
    """Every file of demo library ``variant`` (0, 1 or 2), in path order."""
    if variant not in _CATALOGUE:
        raise ValueError(f"demo variant must be one of {VARIANTS}, not {variant!r}")
    return [t for album in _CATALOGUE[variant] for t in _album_tracks(album)]


def _album_tracks(album: _Album) -> list[DemoTrack]:
    fmt = "MP3" if album.subtype == "MPEG_LAYER_III" else "FLAC"
    folder = f"{_safe(album.albumartist)}/{_safe(album.title)}"
    tracks = []
    for disc_number, disc in enumerate(album.discs, start=1):
        if len(album.discs) > 1:
            disc_folder = f"{folder}/Disc {disc_number}"
        else:
            disc_folder = folder
        for number, entry in enumerate(disc, start=1):
            title, artist = entry if isinstance(entry, tuple) else (entry, album.albumartist)
            tracks.append(DemoTrack(
                path=f"{disc_folder}/{number:02d} - {_safe(title)}.{fmt.lower()}",
                title=title, artist=artist, album=album.title, albumartist=album.albumartist,
                track=number, track_total=len(disc), disc=disc_number,
                disc_total=len(album.discs), date=album.date, genres=album.genres,
                composer=album.composer or artist, compilation=album.compilation,
                format=fmt, subtype=album.subtype, art=album.art,
                slash_totals=album.slash_totals,
                shared=(artist, title) == (SHARED_ARTIST, SHARED_TITLE),
                recording_id=_mbid("recording", artist, title),
                album_id=_mbid("release", album.albumartist, album.title),
                artist_id=_mbid("artist", artist),
                albumartist_id=_mbid("artist", album.albumartist),
                **_music(artist, title),
            ))
    return tracks


def render_track(track: DemoTrack) -> np.ndarray:
    """The audio of ``track``: float32, shape (frames, 2), 44.1 kHz."""
    return render_piece(track.tonic, track.mode, track.bpm, track.progression, track.bars,
                        track.seed, track.style)


# ---------------------------------------------------------------- covers


def cover_jpeg(album: str, artist: str) -> bytes:
    """600x600 JPEG: a diagonal gradient, translucent shapes, the titles.

    Pillow's built-in font has no accents, so the text is folded to ASCII
    ("Sonántica" is printed "Sonantica"); the covers are the same everywhere.
    """
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(zlib.crc32(f"{artist}\x1f{album}".encode()))
    size = 600
    c1, c2 = (rng.uniform(0.1, 0.9, 3) * 255 for _ in range(2))
    ramp = np.add.outer(np.arange(size), np.arange(size))[..., None] / (2 * size - 2)
    image = Image.fromarray((c1 * (1 - ramp) + c2 * ramp).astype(np.uint8), "RGB")
    overlay = Image.new("RGBA", (size, size))
    draw = ImageDraw.Draw(overlay)
    for _ in range(int(rng.integers(5, 10))):
        r = int(rng.integers(60, 280))
        x, y = (int(v) for v in rng.integers(-r // 3, size - r // 2, 2))
        colour = tuple(int(c) for c in rng.integers(0, 256, 3)) + (int(rng.integers(70, 170)),)
        box = (x, y - 60, x + r, y - 60 + r)
        kind = rng.integers(3)
        if kind == 0:
            draw.ellipse(box, fill=colour)
        elif kind == 1:
            draw.ellipse(box, outline=colour, width=int(rng.integers(6, 24)))
        else:
            draw.rectangle(box, fill=colour)
    image = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 430, size, size), fill=(16, 16, 20))
    for i, line in enumerate(_wrap(_ascii(album), 22)[:2]):
        draw.text((36, 450 + 48 * i), line, fill=(245, 245, 240),
                  font=ImageFont.load_default(size=40))
    draw.text((36, 552), _ascii(artist), fill=(190, 190, 185),
              font=ImageFont.load_default(size=26))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return folded or "?"


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


# ---------------------------------------------------------------- writing


def _write_track(root: Path, track: DemoTrack, cover: bytes | None) -> None:
    """Render, encode and tag one file: under a temporary name, then renamed."""
    import mutagen
    import soundfile

    path = root / track.path
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        soundfile.write(partial, render_track(track), SAMPLE_RATE, subtype=track.subtype,
                        format=track.format)
        if track.format == "FLAC":
            _tag_flac(partial, track, cover)
        else:
            _tag_mp3(partial, track, cover)
        os.replace(partial, path)
    except (OSError, soundfile.LibsndfileError, mutagen.MutagenError) as exc:
        partial.unlink(missing_ok=True)
        raise FileOperationError(str(path), f"cannot write the demo file: {exc}") from exc


def _tag_flac(path: Path, track: DemoTrack, cover: bytes | None) -> None:
    from mutagen.flac import FLAC, Picture

    audio = FLAC(path)
    audio.delete()
    tags = {
        "TITLE": track.title, "ARTIST": track.artist, "ALBUM": track.album,
        "ALBUMARTIST": track.albumartist, "DATE": track.date, "GENRE": list(track.genres),
        "COMPOSER": track.composer,
        "MUSICBRAINZ_TRACKID": track.recording_id, "MUSICBRAINZ_ALBUMID": track.album_id,
        "MUSICBRAINZ_ARTISTID": track.artist_id,
        "MUSICBRAINZ_ALBUMARTISTID": track.albumartist_id,
    }
    if track.slash_totals:
        tags["TRACKNUMBER"] = f"{track.track}/{track.track_total}"
        tags["DISCNUMBER"] = f"{track.disc}/{track.disc_total}"
    else:
        tags |= {"TRACKNUMBER": str(track.track), "TRACKTOTAL": str(track.track_total),
                 "DISCNUMBER": str(track.disc), "DISCTOTAL": str(track.disc_total)}
    if track.compilation:
        tags["COMPILATION"] = "1"
    for key, value in tags.items():
        audio[key] = value
    if cover is not None:
        picture = Picture()
        picture.type, picture.mime, picture.desc = 3, "image/jpeg", "Front Cover"
        picture.width = picture.height = 600
        picture.depth, picture.data = 24, cover
        audio.add_picture(picture)
    audio.save()


def _tag_mp3(path: Path, track: DemoTrack, cover: bytes | None) -> None:
    from mutagen import id3

    tags = id3.ID3()
    frames = [
        id3.TIT2(encoding=3, text=track.title), id3.TPE1(encoding=3, text=track.artist),
        id3.TALB(encoding=3, text=track.album), id3.TPE2(encoding=3, text=track.albumartist),
        id3.TDRC(encoding=3, text=track.date), id3.TCON(encoding=3, text=list(track.genres)),
        id3.TCOM(encoding=3, text=track.composer),
        id3.TRCK(encoding=3, text=f"{track.track}/{track.track_total}"),
        id3.TPOS(encoding=3, text=f"{track.disc}/{track.disc_total}"),
        id3.UFID(owner="http://musicbrainz.org", data=track.recording_id.encode()),
    ]
    for desc, value in (("MusicBrainz Album Id", track.album_id),
                        ("MusicBrainz Artist Id", track.artist_id),
                        ("MusicBrainz Album Artist Id", track.albumartist_id)):
        frames.append(id3.TXXX(encoding=3, desc=desc, text=value))
    if track.compilation:
        frames.append(id3.TCMP(encoding=3, text="1"))
    if cover is not None:
        frames.append(id3.APIC(encoding=3, mime="image/jpeg", type=3, desc="Cover", data=cover))
    for frame in frames:
        tags.add(frame)
    tags.save(path, v2_version=4)


def generate_demo_library(dest: Path, variant: int = 0, *,
                          workers: int | None = None) -> list[DemoTrack]:
    """Write demo library ``variant`` into ``dest``; return its plan.

    Idempotent: a folder holding a completed demo of this variant (its marker
    file) is left as it is. Files appear under their final names only once
    complete; the marker is written last, so an interrupted run starts over.
    Raises :class:`ConfigError` if ``dest`` holds another variant, and
    :class:`FileOperationError` if a file cannot be written. Blocks for a
    few seconds: call it from a thread in async code.
    """
    dest = Path(dest)
    plan = demo_plan(variant)
    marker = dest / MARKER_FILE
    if _completed(marker, variant):
        _write_extras(dest, plan)
        return plan
    covers = {(t.albumartist, t.album): b"" for t in plan}
    covers = {key: cover_jpeg(key[1], key[0]) for key in covers}
    dest.mkdir(parents=True, exist_ok=True)
    for t in plan:
        if t.art == "folder":
            (dest / t.album_dir).mkdir(parents=True, exist_ok=True)
            (dest / t.album_dir / "cover.jpg").write_bytes(covers[t.albumartist, t.album])
    # The slowest first (LAME is slower than FLAC), so that the threads end together.
    jobs = [(dest, t, covers[t.albumartist, t.album] if t.art == "embedded" else None)
            for t in sorted(plan, key=lambda t: -t.duration * (3 if t.format == "MP3" else 1))]
    try:
        if (workers or _cpus()) <= 1:
            for job in jobs:
                _write_track(*job)
        else:
            with ThreadPoolExecutor(workers or _cpus()) as pool:
                list(pool.map(_write_track, *zip(*jobs)))
    finally:
        _tone.cache_clear()  # some tens of MB a long-running node need not keep
        _note.cache_clear()
    _write_extras(dest, plan)
    marker.write_text(json.dumps({"version": DEMO_VERSION, "variant": variant,
                                  "tracks": [asdict(t) for t in plan]}, indent=1,
                                 ensure_ascii=False))
    return plan


# ---------------------------------------------------------------- lyrics and artist pictures
#: Invented words, sung (so to speak) over the first album of each variant: its tracks get an .lrc.
_LYRIC_LINES = (
    "Lights along the water", "Counting every wave", "Paper in my pocket", "Nothing left to save",
    "Turn the radio louder", "Let the evening in", "Every road is humming", "Where the songs begin",
)
#: Album artists (the first two of each variant) whose folder holds an artist.jpg.
ARTIST_PICTURES = 2


def lyric_tracks(plan: list[DemoTrack]) -> list[DemoTrack]:
    """The tracks that ship synced lyrics: those of the plan's first album."""
    first = (plan[0].albumartist, plan[0].album)
    return [t for t in plan if (t.albumartist, t.album) == first]


def pictured_artists(plan: list[DemoTrack]) -> list[str]:
    out: list[str] = []
    for t in plan:
        if not t.compilation and t.albumartist not in out:
            out.append(t.albumartist)
    return out[:ARTIST_PICTURES]


def lrc_text(track: DemoTrack) -> str:
    """An LRC file for ``track``: one invented line every few seconds, ending before the track does."""
    rng = np.random.default_rng(zlib.crc32(track.title.encode()))
    step = max(2.5, (track.duration - 4) / 8)
    lines = [f"[ti:{track.title}]", f"[ar:{track.artist}]", f"[al:{track.album}]"]
    at, first = 1.5, int(rng.integers(len(_LYRIC_LINES)))
    for i in range(8):
        if at > track.duration - 2:
            break
        words = _LYRIC_LINES[(first + i) % len(_LYRIC_LINES)]
        lines.append(f"[{int(at // 60):02d}:{at % 60:05.2f}]{words}")
        at += step
    return "\n".join(lines) + "\n"


def artist_jpeg(artist: str) -> bytes:
    """600x600 JPEG: a portrait-like silhouette on a gradient, with the artist's initials."""
    from PIL import Image, ImageDraw, ImageFont

    rng = np.random.default_rng(zlib.crc32(f"artist\x1f{artist}".encode()))
    size = 600
    c1, c2 = (rng.uniform(0.15, 0.85, 3) * 255 for _ in range(2))
    ramp = (np.arange(size)[:, None, None] / (size - 1)) * np.ones((1, size, 1))
    image = Image.fromarray((c1 * (1 - ramp) + c2 * ramp).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    shade = tuple(int(v) for v in (np.array(c1) * 0.35))
    draw.ellipse((200, 110, 400, 330), fill=shade)
    draw.ellipse((110, 360, 490, 760), fill=shade)
    initials = "".join(w[0] for w in _ascii(artist).split()[:2]).upper()
    draw.text((36, 30), initials, fill=(250, 250, 245), font=ImageFont.load_default(size=64))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    return out.getvalue()


def _write_extras(dest: Path, plan: list[DemoTrack]) -> None:
    """The .lrc files and artist pictures (written if missing: a demo made before them gains them)."""
    for t in lyric_tracks(plan):
        lrc = dest / (t.path.rsplit(".", 1)[0] + ".lrc")
        if not lrc.exists():
            lrc.write_text(lrc_text(t), "utf-8")
    for artist in pictured_artists(plan):
        folder = next(t.path.split("/")[0] for t in plan if t.albumartist == artist)
        pic = dest / folder / "artist.jpg"
        if not pic.exists():
            pic.write_bytes(artist_jpeg(artist))


def _cpus() -> int:
    if hasattr(os, "sched_getaffinity"):
        return min(len(os.sched_getaffinity(0)), 8)
    return min(os.cpu_count() or 1, 8)


def _completed(marker: Path, variant: int) -> bool:
    try:
        done = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    if done.get("variant") != variant:
        raise ConfigError(f"{marker.parent} already holds demo library variant "
                          f"{done.get('variant')}, not {variant}; use another folder")
    return done.get("version") == DEMO_VERSION
