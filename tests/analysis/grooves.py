"""Grooves with a known tempo, in styles that fool tempo estimators.

``render_groove(style, bpm, seconds, seed)`` plays a few bars of one style
at ``bpm`` quarter notes per minute, seeded (same arguments, same samples)
and cheap (a 20 s piece renders in a fraction of a second):

- ``four_on_floor``: kick on every beat, clap on 2 and 4, open hats and a
  house bass on every "and", quiet sixteenth hats;
- ``rock``: kick on 1 and 3, snare on 2 and 4, eighth hats, eighth bass;
- ``offbeat``: ska: a loud, bright chord skank on every "and" (the loudest
  thing in the mix), walking bass on the beats, light kick and rimshot;
- ``clave``: son clave 3-2 over two bars, tumbao bass anticipating the bar
  (on the "and" of 2 and on 4), conga open tones on 4 and its "and", a
  cowbell on the beats, a syncopated piano montuno, no kick;
- ``funk``: sixteenth hats, syncopated kick (1, the "a" of 1, the "and" of
  3), snare on 2 and 4 with ghost notes, slap bass on sixteenths;
- ``half_time``: eighth hats with the snare on 3 only and the kick on 1:
  the pulse is felt at half the notated tempo, so both are right;
- ``swing``: ride "ding, ding-a-ding" on a triplet grid, hi-hat foot on 2
  and 4, feathered kick, walking bass, piano comping on triplet off-beats;
- ``piano``: no percussion: a piano left hand on 1 and 3, chords on 2 and
  4, an occasional eighth pick-up;
- ``drone``: held chords changing every few seconds, no rhythm at all.

``accepted(style, bpm)`` lists the tempi a listener could tap: the notated
one, plus the other octave where the style is genuinely ambiguous.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tests.analysis.music import _midi_hz, _tone

STYLES = ("four_on_floor", "rock", "offbeat", "clave", "funk", "half_time", "swing", "piano")
TEMPI = (60, 72, 85, 96, 110, 124, 140, 155, 170, 180)


def accepted(style: str, bpm: float) -> tuple[float, ...]:
    """The tempi a listener would tap for ``style`` notated at ``bpm``.

    The notated tempo always; another octave only where listeners (and
    tempo annotations) genuinely split:

    - ``half_time``: the snare on 3 moves at half the notated tempo, and
      that is the pulse most people tap;
    - backbeat grooves from 150 BPM (rock, funk, ska, piano "oom-pah", son):
      felt "in two" as often as not (punk, drum and bass, fast ska are
      quoted at either octave);
    - son (``clave``) up to 96 BPM: the montuno and tumbao fill every
      eighth, and salsa tempi are quoted in eighths as often as in beats;
    - slow ``offbeat`` and ``funk`` (72 BPM and below): reggae at 72 is as
      often written at 144 with the skank on 2 and 4, slow funk and hip-hop
      with sixteenth hats are tapped at double time.

    Four-on-the-floor (a kick on every beat), swing (a walking bass on
    every beat) and anything between 73 and 149 BPM stay unambiguous.
    """
    tempi = [bpm]
    if (style == "half_time" or (bpm >= 150 and style not in ("four_on_floor", "swing"))) and bpm / 2 >= 60:
        tempi.append(bpm / 2)
    if (style == "clave" and bpm <= 96) or (style in ("offbeat", "funk") and bpm <= 72):
        tempi.append(bpm * 2)
    return tuple(tempi)


class _Kit:
    """One seeded set of sounds: drums as sample arrays, pitched notes on demand."""

    def __init__(self, rng: np.random.Generator, sr: int):
        self.sr, self.rng = sr, rng
        t = lambda sec: np.arange(int(sec * sr)) / sr  # noqa: E731
        noise = lambda sec: rng.standard_normal(int(sec * sr))  # noqa: E731
        tk, f0 = t(0.3), rng.uniform(45, 65)
        self.kick = np.sin(2 * np.pi * (f0 * tk + 80 * 0.03 * (1 - np.exp(-tk / 0.03)))) * np.exp(-tk / 0.13)
        ts, f1 = t(0.2), rng.uniform(170, 240)
        self.snare = (0.7 * noise(0.2) + 0.5 * np.sin(2 * np.pi * f1 * ts)) * np.exp(-ts / 0.07)
        self.ghost = self.snare * np.exp(-ts / 0.03)
        self.rim = (np.sin(2 * np.pi * 420 * t(0.06)) + 0.5 * noise(0.06)) * np.exp(-t(0.06) / 0.012)
        self.clap = noise(0.15) * (np.exp(-t(0.15) / 0.05) + 0.6 * ((t(0.15) % 0.012) < 0.004))
        self.hat = np.diff(noise(0.05), append=0.0) * np.exp(-t(0.05) / 0.012)
        self.open_hat = np.diff(noise(0.25), append=0.0) * np.exp(-t(0.25) / 0.09)
        tr = t(0.7)
        partials = rng.uniform(2800, 5000, 6)
        self.ride = (sum(np.sin(2 * np.pi * p * tr) for p in partials) / 6 + 0.3 * np.diff(noise(0.7), append=0.0)) \
            * np.exp(-tr / 0.35)
        self.clave = np.sin(2 * np.pi * rng.uniform(2200, 2600) * t(0.08)) * np.exp(-t(0.08) / 0.025)
        tb = t(0.15)
        self.cowbell = (np.sign(np.sin(2 * np.pi * 560 * tb)) + np.sign(np.sin(2 * np.pi * 845 * tb))) * 0.4 \
            * np.exp(-tb / 0.06)
        tc, fc = t(0.3), rng.uniform(190, 240)
        self.conga_open = np.sin(2 * np.pi * fc * tc) * np.exp(-tc / 0.12)
        self.conga_slap = (0.6 * np.sin(2 * np.pi * fc * 1.6 * tc[: len(tc) // 3]) + 0.6 * noise(0.1)) \
            * np.exp(-tc[: len(tc) // 3] / 0.03)
        self.conga_heel = self.conga_open[: len(tc) // 3] * np.exp(-tc[: len(tc) // 3] / 0.02)
        self.bright = (1.0, 0.7, 0.5, 0.4, 0.3, 0.2, 0.15, 0.1)
        self.piano = (1.0, 0.5, 0.35, 0.2, 0.12, 0.08)

    def note(self, midi: float, sec: float, harmonics=(1.0, 0.4, 0.1), attack=0.005, decay=0.3) -> np.ndarray:
        return _tone(_midi_hz(midi), int(sec * self.sr), self.sr, harmonics, attack, decay)

    def chord(self, midis, sec: float, harmonics, attack=0.004, decay=0.3) -> np.ndarray:
        return sum(self.note(m, sec, harmonics, attack, decay) for m in midis) / len(midis)


class _Score:
    """A stereo buffer that sounds are added to at times in beats."""

    def __init__(self, bpm: float, seconds: float, sr: int, rng: np.random.Generator):
        self.beat, self.sr, self.rng = 60.0 / bpm, sr, rng
        self.n = int(seconds * sr)
        self.out = np.zeros((self.n + 2 * sr, 2))
        self.bars = int(seconds / (4 * self.beat)) + 1

    def add(self, sig: np.ndarray, beats: float, gain: float, pan: float = 0.5, jitter: float = 0.004) -> None:
        start = beats * self.beat + self.rng.uniform(-jitter, jitter)  # a human, not a sequencer
        i = max(0, int(start * self.sr))
        if i >= self.n:
            return
        sig = sig[: len(self.out) - i] * gain * self.rng.uniform(0.85, 1.0)
        self.out[i:i + len(sig), 0] += (1 - pan) * sig
        self.out[i:i + len(sig), 1] += pan * sig

    def every(self, sig, positions, gain, pan=0.5, period=4) -> None:
        """``sig`` at each position (in beats) of every ``period``-beat pattern."""
        for start in np.arange(0, self.bars * 4, period):
            for pos in positions:
                self.add(sig, start + pos, gain, pan)


PROGRESSION = (0, 5, 3, 4)  # I vi IV V in a major key, as semitone offsets below
DEGREES = {0: (0, 4, 7), 5: (9, 12, 16), 3: (5, 9, 12), 4: (7, 11, 14)}


def _root(bar: int, tonic: int) -> int:
    return 36 + tonic + DEGREES[PROGRESSION[bar % 4]][0]


def _triad(bar: int, tonic: int, octave: int = 60) -> list[int]:
    return [octave + tonic + d for d in DEGREES[PROGRESSION[bar % 4]]]


def _four_on_floor(s: _Score, k: _Kit, tonic: int) -> None:
    s.every(k.kick, (0, 1, 2, 3), 1.0)
    s.every(k.clap, (1, 3), 0.5)
    s.every(k.open_hat, (0.5, 1.5, 2.5, 3.5), 0.15, 0.6)
    s.every(k.hat, (0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3.25, 3.75), 0.05, 0.6)
    for bar in range(s.bars):
        for pos in (0.5, 1.5, 2.5, 3.5):
            s.add(k.note(_root(bar, tonic), s.beat / 2, decay=s.beat / 4), 4 * bar + pos, 0.25)
        s.add(k.chord(_triad(bar, tonic), 4 * s.beat, k.bright, 0.05, 2.0), 4 * bar, 0.1, 0.3)


def _rock(s: _Score, k: _Kit, tonic: int) -> None:
    s.every(k.kick, (0, 2, 2.5), 1.0)
    s.every(k.snare, (1, 3), 0.6)
    s.every(k.hat, (0, 1, 2, 3), 0.15, 0.6)
    s.every(k.hat, (0.5, 1.5, 2.5, 3.5), 0.1, 0.6)
    for bar in range(s.bars):
        for pos in np.arange(0, 4, 0.5):
            s.add(k.note(_root(bar, tonic), s.beat / 2, decay=s.beat / 3), 4 * bar + pos, 0.25 if pos % 1 == 0 else 0.15)
        s.add(k.chord([_root(bar, tonic) + 24, _root(bar, tonic) + 31], 2 * s.beat, k.bright, 0.01, 1.0),
              4 * bar, 0.12, 0.3)


def _offbeat(s: _Score, k: _Kit, tonic: int) -> None:
    s.every(k.kick, (0, 2), 0.7)
    s.every(k.rim, (1, 3), 0.3)
    s.every(k.hat, np.arange(0, 4, 0.5), 0.05, 0.6)
    for bar in range(s.bars):
        skank = k.chord(_triad(bar, tonic, 67), min(0.15, s.beat / 3), k.bright, 0.002, 0.06)
        for pos in (0.5, 1.5, 2.5, 3.5):
            s.add(skank, 4 * bar + pos, 1.0, 0.4)
        walk = (0, 4, 7, 9)
        for pos in range(4):
            s.add(k.note(_root(bar, tonic) + walk[pos], s.beat, decay=s.beat / 2), 4 * bar + pos, 0.5)


def _clave(s: _Score, k: _Kit, tonic: int) -> None:
    s.every(k.clave, (0, 1.5, 3, 5, 6), 0.5, 0.7, period=8)  # son clave 3-2
    s.every(k.cowbell, (0, 1, 2, 3), 0.35, 0.4)
    s.every(k.conga_heel, (0, 0.5, 2, 2.5), 0.15, 0.3)
    s.every(k.conga_slap, (1,), 0.35, 0.3)
    s.every(k.conga_open, (3, 3.5), 0.5, 0.3)
    for bar in range(s.bars):
        nxt = _root(bar + 1, tonic)  # tumbao: the bass anticipates the next chord
        s.add(k.note(nxt, 1.5 * s.beat, decay=s.beat), 4 * bar + 1.5, 0.4)
        s.add(k.note(nxt, 1.0 * s.beat, decay=s.beat), 4 * bar + 3, 0.4)
        chord = k.chord(_triad(bar, tonic), s.beat / 2, k.piano, 0.003, 0.15)
        for pos in (0, 1, 1.5, 2.5, 3, 3.5):
            s.add(chord, 4 * bar + pos, 0.2, 0.6)


def _funk(s: _Score, k: _Kit, tonic: int) -> None:
    s.every(k.hat, np.arange(0, 4, 0.25), 0.05, 0.6)
    s.every(k.hat, np.arange(0, 4, 0.5), 0.06, 0.6)
    s.every(k.kick, (0, 0.75, 2.5), 1.0)
    s.every(k.snare, (1, 3), 0.8)
    s.every(k.ghost, (1.75, 2.25, 3.75), 0.08)
    for bar in range(s.bars):
        for pos, step in ((0, 0), (0.75, 0), (1.5, 12), (2.5, 0), (2.75, 7), (3.5, 10)):
            s.add(k.note(_root(bar, tonic) + step, s.beat / 4, k.bright[:4], 0.002, 0.08), 4 * bar + pos, 0.3)
        scratch = k.chord(_triad(bar, tonic, 72), s.beat / 4, k.bright, 0.002, 0.03)
        for pos in (0.5, 1.5, 2.75, 3.5):
            s.add(scratch, 4 * bar + pos, 0.2, 0.7)


def _half_time(s: _Score, k: _Kit, tonic: int) -> None:
    s.every(k.kick, (0, 2.75), 1.0)
    s.every(k.snare, (2,), 0.7)
    s.every(k.hat, np.arange(0, 4, 0.5), 0.12, 0.6)
    for bar in range(s.bars):
        s.add(k.note(_root(bar, tonic), 2 * s.beat, decay=s.beat), 4 * bar, 0.45)
        s.add(k.note(_root(bar, tonic), s.beat, decay=s.beat / 2), 4 * bar + 2.75, 0.35)
        s.add(k.chord(_triad(bar, tonic), 4 * s.beat, k.bright, 0.08, 3.0), 4 * bar, 0.12, 0.3)


def _swing(s: _Score, k: _Kit, tonic: int) -> None:
    s.every(k.ride, (0, 1, 1 + 2 / 3, 2, 3, 3 + 2 / 3), 0.2, 0.6)
    s.every(k.hat, (1, 3), 0.25, 0.4)
    s.every(k.kick, (0, 1, 2, 3), 0.2)
    for bar in range(s.bars):
        walk = (0, 4, 7, 10) if bar % 2 == 0 else (0, 2, 4, 5)
        for pos in range(4):
            s.add(k.note(_root(bar, tonic) + walk[pos], s.beat, (1.0, 0.5, 0.2), 0.01, s.beat), 4 * bar + pos, 0.6)
        comp = k.chord(_triad(bar, tonic), s.beat, k.piano, 0.004, 0.25)
        for pos in s.rng.choice([2 / 3, 1 + 2 / 3, 2 + 2 / 3, 3 + 2 / 3, 0, 2], size=2, replace=False):
            s.add(comp, 4 * bar + pos, 0.2, 0.3)
        if s.rng.random() < 0.5:
            s.add(k.ghost, 4 * bar + s.rng.choice([2 / 3, 2 + 2 / 3]), 0.15)


def _piano(s: _Score, k: _Kit, tonic: int) -> None:
    for bar in range(s.bars):
        root = _root(bar, tonic) + 12
        s.add(k.note(root, 2 * s.beat, k.piano, 0.003, 0.8), 4 * bar, 0.5, 0.4)
        s.add(k.note(root + 7, 2 * s.beat, k.piano, 0.003, 0.8), 4 * bar + 2, 0.4, 0.4)
        chord = k.chord(_triad(bar, tonic), s.beat, k.piano, 0.003, 0.6)
        s.add(chord, 4 * bar + 1, 0.45, 0.6)
        s.add(chord, 4 * bar + 3, 0.4, 0.6)
        if s.rng.random() < 0.4:
            s.add(k.note(_triad(bar, tonic, 72)[1], s.beat / 2, k.piano, 0.003, 0.3), 4 * bar + 3.5, 0.25, 0.6)


def _drone(s: _Score, k: _Kit, tonic: int) -> None:
    span = 6.0 / s.beat  # a chord every 6 s whatever the tempo: no pulse
    for i, start in enumerate(np.arange(0, s.bars * 4, span)):
        s.add(k.chord(_triad(i, tonic) + [_root(i, tonic)], 8.0, (1.0, 0.3, 0.1), 1.5, 6.0), start, 0.5)


RENDER: dict[str, Callable[[_Score, _Kit, int], None]] = {
    "four_on_floor": _four_on_floor, "rock": _rock, "offbeat": _offbeat, "clave": _clave, "funk": _funk,
    "half_time": _half_time, "swing": _swing, "piano": _piano, "drone": _drone,
}


def render_groove(style: str, bpm: float, seconds: float = 20.0, seed: int = 0, sr: int = 44100) -> np.ndarray:
    """Stereo float32 (frames, 2), peak around -3 dBFS; same arguments, same samples."""
    rng = np.random.default_rng([seed, int(bpm * 100), STYLES.index(style) if style in STYLES else 99])
    score, kit = _Score(bpm, seconds, sr, rng), _Kit(rng, sr)
    RENDER[style](score, kit, int(rng.integers(12)))
    out = score.out[: score.n]
    out *= 0.7 / max(np.abs(out).max(), 1e-9)
    return out.astype(np.float32)
