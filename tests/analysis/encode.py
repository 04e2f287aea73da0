"""Write test audio in the encodings the analysis must see through."""

from __future__ import annotations

import av
import numpy as np
import soundfile as sf


def write_flac(path, x: np.ndarray, sr: int) -> str:
    sf.write(str(path), x, sr, format="FLAC", subtype="PCM_16")
    return str(path)


def write_mp3(path, x: np.ndarray, sr: int) -> str:
    sf.write(str(path), x, sr, format="MP3", subtype="MPEG_LAYER_III")
    return str(path)


def write_av(path, x: np.ndarray, sr: int, codec: str = "libopus", bit_rate: int = 96000,
             rate: int = 48000, fmt: str = "flt") -> str:
    """Encode with FFmpeg through PyAV (Opus 96k by default, resampled to 48 kHz)."""
    layout = "stereo" if x.shape[1] == 2 else "mono"
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=rate, layout=layout)
        stream.bit_rate = bit_rate
        resampler = av.AudioResampler(format=fmt, layout=layout, rate=rate)
        step = 4096
        for i in range(0, len(x) + 1, step):
            chunk = x[i:i + step]
            frames = resampler.resample(_frame(chunk, sr, layout)) if len(chunk) else resampler.resample(None)
            for frame in frames:
                for packet in stream.encode(frame):
                    container.mux(packet)
        for frame in resampler.resample(None):
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return str(path)


def _frame(chunk: np.ndarray, sr: int, layout: str):
    frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk.reshape(1, -1), np.float32), format="flt", layout=layout)
    frame.sample_rate = sr
    return frame
