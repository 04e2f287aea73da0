"""Real audio files for tests and benchmarks (soundfile and PyAV; no fixtures on disk)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import soundfile as sf

__all__ = ["AUDIO_KINDS", "make_audio", "signal"]

# kind → (suffix, soundfile format, subtype) or (suffix, None, pyav codec)
AUDIO_KINDS: dict[str, tuple[str, str | None, str]] = {
    "flac16": (".flac", "FLAC", "PCM_16"),
    "flac24": (".flac", "FLAC", "PCM_24"),
    "wav": (".wav", "WAV", "PCM_16"),
    "aiff": (".aiff", "AIFF", "PCM_16"),
    "ogg": (".ogg", "OGG", "VORBIS"),
    "mp3": (".mp3", "MP3", "MPEG_LAYER_III"),
    "alac": (".m4a", None, "alac"),
    "aac": (".m4a", None, "aac"),
    "opus": (".opus", None, "libopus"),
}


def signal(seconds: float, rate: int = 44100, channels: int = 2, *, seed: int = 0) -> np.ndarray:
    """A sine plus a little noise, float32 (frames, channels), deterministic."""
    n = int(round(seconds * rate))
    t = np.arange(n) / rate
    rng = np.random.default_rng(seed)
    tone = 0.3 * np.sin(2 * np.pi * 440.0 * t)
    x = tone[:, None] + 0.02 * rng.standard_normal((n, channels))
    return x.astype(np.float32)


def make_audio(
    path: str | Path,
    kind: str = "flac16",
    seconds: float = 2.0,
    *,
    rate: int = 44100,
    channels: int = 2,
    data: np.ndarray | None = None,
) -> Path:
    """Write ``seconds`` of audio of ``kind`` (see AUDIO_KINDS) to ``path`` (suffix added)."""
    suffix, sf_format, subtype = AUDIO_KINDS[kind]
    path = Path(path).with_suffix(suffix)
    x = signal(seconds, rate, channels) if data is None else data
    if sf_format is not None:
        sf.write(path, x, rate, format=sf_format, subtype=subtype)
        return path
    _write_pyav(path, x, rate, subtype)
    return path


def _write_pyav(path: Path, x: np.ndarray, rate: int, codec: str) -> None:
    out_rate = 48000 if codec == "libopus" else rate
    layout = "mono" if x.shape[1] == 1 else "stereo"
    with av.open(str(path), "w", format="ogg" if codec == "libopus" else "ipod") as out:
        st = out.add_stream(codec, rate=out_rate)
        st.layout = layout
        if codec != "alac":
            st.bit_rate = 128_000
        fmt = st.codec_context.format.name if st.codec_context.format else "fltp"
        resampler = av.AudioResampler(format=fmt, layout=layout, rate=out_rate, frame_size=None)
        frame_size = st.codec_context.frame_size or 4096
        pcm = np.ascontiguousarray(x.T)  # planar: (channels, frames)
        frames = []
        for i in range(0, pcm.shape[1], 4096):
            f = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm[:, i : i + 4096]), format="fltp", layout=layout)
            f.sample_rate = rate
            frames.extend(resampler.resample(f))
        frames.extend(resampler.resample(None))
        chunked = av.AudioResampler(format=fmt, layout=layout, rate=out_rate, frame_size=frame_size)
        pts = 0
        for f in frames + [None]:
            for g in chunked.resample(f):
                g.pts = pts
                g.time_base = Fraction(1, out_rate)
                pts += g.samples
                out.mux(st.encode(g))
        out.mux(st.encode(None))


# --- a tiny server for integration tests and bench/stream.py -----------------
# The real app (node/api/) replaces this; keep every construction detail here.


def build_app(
    files: dict[str, Path],
    *,
    limiter: Any = None,
    cache: Any = None,
) -> Any:
    """A quart-trio app mounting the streaming helpers as thin handlers.

    ``GET|HEAD /original/<name>[?download=1]`` and
    ``GET|HEAD /transcode/<name>?format=opus&bitrate=128000&offset=0``.
    """
    import quart
    from quart_trio import QuartTrio

    from .errors import SourceUnavailable, TranscodeBusy, TranscodeFailed
    from .originals import serve_original
    from .transcode import TranscodeSpec, serve_transcode

    app = QuartTrio(__name__)
    app.config["RESPONSE_TIMEOUT"] = None

    def respond(resp) -> quart.Response:
        return quart.Response(resp.body, status=resp.status, headers=resp.headers)

    @app.route("/original/<name>", methods=["GET", "HEAD"])
    async def original(name: str):
        path = files.get(name)
        if path is None:
            return quart.Response("no such track", status=404)
        download = path.name if quart.request.args.get("download") else None
        resp = await serve_original(
            path, quart.request.headers, method=quart.request.method, download_name=download
        )
        return respond(resp)

    @app.route("/transcode/<name>", methods=["GET", "HEAD"])
    async def transcode(name: str):
        path = files.get(name)
        if path is None:
            return quart.Response("no such track", status=404)
        args = quart.request.args
        try:
            spec = TranscodeSpec(
                args.get("format", "opus"), int(args.get("bitrate", 128_000)), float(args.get("offset", 0))
            )
        except ValueError as exc:
            return quart.Response(str(exc), status=400)
        resp = await serve_transcode(
            path, spec, quart.request.headers, method=quart.request.method, limiter=limiter, cache=cache
        )
        return respond(resp)

    @app.errorhandler(TranscodeBusy)
    async def busy(exc: TranscodeBusy):
        return quart.Response(str(exc), status=503, headers={"Retry-After": str(exc.retry_after)})

    @app.errorhandler(SourceUnavailable)
    async def gone(exc: SourceUnavailable):
        return quart.Response(str(exc), status=404)

    @app.errorhandler(TranscodeFailed)
    async def failed(exc: TranscodeFailed):
        return quart.Response(str(exc), status=422)

    return app


async def serve_app(app: Any, *, task_status: Any = None) -> None:
    """Serve ``app`` on 127.0.0.1 at a random port; ``task_status.started(base_url)``."""
    import trio
    from hypercorn.config import Config
    from hypercorn.trio import serve

    config = Config()
    config.bind = ["127.0.0.1:0"]
    config.accesslog = None
    config.errorlog = None
    config.keep_alive_timeout = 30

    async def run(*, task_status=trio.TASK_STATUS_IGNORED):
        await serve(app, config, task_status=task_status)

    async with trio.open_nursery() as nursery:
        binds = await nursery.start(run)
        if task_status is not None:
            task_status.started(binds[0])
