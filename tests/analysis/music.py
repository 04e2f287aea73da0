"""Render simple but real-sounding music with a known tempo and key.

Drums (kick on 1 and 3, snare on 2 and 4, closed hats on eighths), a bass
playing the chord root on every beat, sustained triads changing every bar
along a diatonic progression, and a melody of scale notes on eighths.  A
``seed`` varies the progression, melody, voicing and timbre so that pieces
with the same key and tempo are still different recordings.
"""

from __future__ import annotations

import numpy as np

NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 11)  # harmonic minor: the V chord is major
# progressions as scale degrees (0 = tonic); every one starts and ends on the tonic
PROGRESSIONS = ((0, 3, 4, 0), (0, 5, 3, 4), (0, 3, 0, 4), (0, 4, 5, 3, 0, 4),
                (0, 1, 4, 0), (0, 5, 1, 4))


def _tone(freq: float, n: int, sr: int, harmonics, attack: float, decay: float) -> np.ndarray:
    t = np.arange(n) / sr
    out = np.zeros(n)
    for k, amp in enumerate(harmonics, start=1):
        if freq * k < sr / 2.2:
            out += amp * np.sin(2 * np.pi * freq * k * t)
    env = np.minimum(1.0, t / attack) * np.exp(-t / decay)
    return out * env


def _midi_hz(m: float) -> float:
    return 440.0 * 2 ** ((m - 69) / 12)


def render(tonic: int, mode: str, bpm: float, seconds: float, seed: int = 0, sr: int = 44100) -> np.ndarray:
    """Stereo float32 (frames, 2), peak around -3 dBFS."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.zeros((n + sr, 2))
    beat = 60.0 / bpm
    scale = MAJOR_SCALE if mode == "major" else MINOR_SCALE
    prog = PROGRESSIONS[rng.integers(len(PROGRESSIONS))]
    if rng.random() < 0.5:  # or a fresh progression: tonic first, then random diatonic degrees
        prog = (0,) + tuple(int(d) for d in rng.integers(0, 6, size=int(rng.integers(3, 8))))
    chord_beats = int(rng.choice([2, 4, 4, 8]))
    register = int(rng.choice([-12, 0, 0, 12]))
    kick_hz, snare_hz = rng.uniform(40, 70), rng.uniform(150, 260)
    drums = rng.uniform(0.3, 1.0)
    harm = (1.0, rng.uniform(0.2, 0.5), rng.uniform(0.05, 0.2))
    pan = rng.uniform(0.3, 0.7)

    def add(sig, start, gain, p=0.5):
        i = int(start * sr)
        if i >= n:
            return
        sig = sig[: len(out) - i]
        out[i:i + len(sig), 0] += gain * (1 - p) * sig
        out[i:i + len(sig), 1] += gain * p * sig

    beats = int(seconds / beat) + 1
    kick = _tone(1.0, int(0.25 * sr), sr, (), 0.001, 1)  # placeholder length
    tk = np.arange(len(kick)) / sr
    kick = np.sin(2 * np.pi * (kick_hz * tk + 60 * 0.04 * (1 - np.exp(-tk / 0.04)))) * np.exp(-tk / 0.12)
    noise = rng.standard_normal(int(0.2 * sr))
    snare = (0.6 * noise + 0.5 * np.sin(2 * np.pi * snare_hz * np.arange(len(noise)) / sr)) * np.exp(-np.arange(len(noise)) / sr / 0.07)
    hat = np.diff(rng.standard_normal(int(0.05 * sr) + 1)) * np.exp(-np.arange(int(0.05 * sr)) / sr / 0.015)
    for b in range(beats):
        t0 = b * beat
        add(kick if b % 2 == 0 else snare, t0, drums * (0.9 if b % 2 == 0 else 0.5))
        add(hat, t0, drums * 0.12, 0.6)
        add(hat, t0 + beat / 2, drums * 0.08, 0.6)
        bar, pos = divmod(b, chord_beats)
        degree = prog[bar % len(prog)]
        root = 36 + tonic + scale[degree]
        add(_tone(_midi_hz(root), int(beat * sr), sr, (1.0, 0.4, 0.1), 0.005, beat * 0.6), t0, 0.45)
        if pos == 0:
            triad = [scale[(degree + k) % 7] + 12 * ((degree + k) // 7) for k in (0, 2, 4)]
            for note in triad:
                add(_tone(_midi_hz(60 + register + tonic + note), int(chord_beats * beat * sr), sr, harm, 0.05,
                          chord_beats * beat), t0, 0.12, pan)
        for half in (0, 1):
            if rng.random() < (0.8 if half == 0 else 0.3):
                chord_tones = [scale[(degree + k) % 7] for k in (0, 2, 4)]
                note = chord_tones[rng.integers(3)] if rng.random() < 0.7 else scale[rng.integers(7)]
                add(_tone(_midi_hz(72 + tonic + note), int(beat / 2 * sr), sr, harm, 0.01, beat / 3),
                    t0 + half * beat / 2, 0.1, 1 - pan)
    out = out[:n]
    out *= 0.7 / max(np.abs(out).max(), 1e-9)
    return out.astype(np.float32)
