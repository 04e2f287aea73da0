"""On-the-fly transcoding with PyAV: any input → Opus/Ogg, AAC (ADTS or fMP4), MP3.

Theory of operation
-------------------
::

    worker thread (one per transcode)                 trio side
    ─────────────────────────────────                 ──────────────────────────
    demux → decode → trim to offset → resample        start_transcode():
      → encode → mux into _ChannelSink ──chunks──▶      slot from TranscodeLimiter (or TranscodeBusy)
          (≤ CHUNK_SIZE, from_thread.run(send))          waits until the input is open
      └─ tee into the cache's temp file                TranscodeStream: async iterator of chunks
    on end: flush, commit cache entry, close channel     aclose(): stop flag + close the channel,
                                                          then waits (shielded, bounded) for the thread

* **Output flows at once**: the muxer writes into a sink that hands chunks to
  a bounded trio memory channel.  The first chunk (container header) is sent
  as soon as it is written, later ones when ``CHUNK_SIZE`` bytes accumulate.
* **Backpressure**: the channel holds ``CHANNEL_DEPTH`` chunks; when it is full
  the worker blocks in ``trio.from_thread.run(send.send, …)``, so a slow client
  slows the encoder instead of growing memory.
* **Cancellation**: when the consumer goes away, ``aclose()`` (called by the
  server when the body is done, including on disconnect) sets a stop flag and
  closes the receiving end; a blocked send fails with ``BrokenResourceError``
  and the per-packet loop checks the flag, so the thread ends within one
  packet's work.  The limiter slot is released only when the thread has ended.
* **Exact offsets**: we seek to the key frame ``PREROLL`` before ``offset``
  and drop decoded samples up to the exact sample at ``offset``.  The
  pre-roll is what lossy decoders need after a seek (an MP3 decoder answers
  silence until its bit reservoir refills, ~8 frames; AAC frames overlap);
  times count from the stream's ``start_time`` (an MP3's encoder delay), as
  players count them.  A seek the demuxer refuses (FLAC without a seek
  table, near its end) or that lands past the offset is retried further
  back, at worst from the start.  No audio at or after the offset is
  ``OffsetPastEnd``, raised before the first byte.
* **Limits**: at most N transcodes run at once; past that ``TranscodeBusy`` is
  raised immediately — no unbounded queue.
* **AAC default is ADTS** (``format="aac"``): a self-synchronising stream that
  any client can start at any byte and play progressively; ``format="m4a"``
  gives fragmented MP4 (empty moov + 1 s fragments) for Media Source clients.
* **Same transcode requested twice at once**: each request transcodes on its
  own (each counts against the limit); whichever finishes first puts the result
  into the cache, the other replaces it atomically with an identical file.
"""

from __future__ import annotations

import itertools
import logging
import math
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import trio

from .cache import CacheWriter, TranscodeCache
from .errors import OffsetPastEnd, SourceUnavailable, TranscodeBusy, TranscodeFailed
from .mime import mime_for_format
from .originals import EmptyBody, StreamResponse, content_disposition, serve_file
from .ranges import Headers

__all__ = [
    "CHANNEL_DEPTH",
    "CHUNK_SIZE",
    "FORMATS",
    "TranscodeLimiter",
    "TranscodeSpec",
    "TranscodeStream",
    "serve_transcode",
    "start_transcode",
]

log = logging.getLogger(__name__)

CHUNK_SIZE = 32 * 1024
CHANNEL_DEPTH = 4
CLOSE_TIMEOUT = 5.0  # seconds aclose() waits for the worker thread to notice
PREROLL = 1.0  # seconds decoded and dropped before an offset: decoders need them after a seek
SEEK_RETRY_BACK = 10.0  # seconds before the offset to seek to when the first seek fails

_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)
_MP3_RATES = (48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000)


@dataclass(frozen=True)
class _Format:
    container: str
    codec: str
    sample_fmt: str
    rates: tuple[int, ...]
    min_bitrate: int
    max_bitrate: int
    container_options: dict[str, str] = field(default_factory=dict)


FORMATS: dict[str, _Format] = {
    "opus": _Format("ogg", "libopus", "flt", (48000,), 6_000, 510_000),
    "aac": _Format("adts", "aac", "fltp", _AAC_RATES, 32_000, 320_000),
    "m4a": _Format(
        "mp4",
        "aac",
        "fltp",
        _AAC_RATES,
        32_000,
        320_000,
        {"movflags": "empty_moov+default_base_moof+frag_keyframe", "frag_duration": "1000000"},
    ),
    "mp3": _Format("mp3", "libmp3lame", "s16p", _MP3_RATES, 32_000, 320_000),
}


@dataclass(frozen=True)
class TranscodeSpec:
    """What to produce: ``format`` (a key of FORMATS), ``bitrate`` in bit/s, ``offset`` in s."""

    format: str
    bitrate: int
    offset: float = 0.0
    channels: int | None = None  # at most this many (1 or 2); None: mono stays mono, the rest is stereo
    sample_rate: int | None = None  # at most this rate (the format's nearest below); None: as the source

    def __post_init__(self) -> None:
        fmt = FORMATS.get(self.format)
        if fmt is None:
            raise ValueError(f"unknown transcode format {self.format!r}; use one of {sorted(FORMATS)}")
        if self.channels not in (None, 1, 2):
            raise ValueError(f"channels must be 1 or 2, not {self.channels}")
        if self.sample_rate is not None and not 8000 <= self.sample_rate <= 384_000:
            raise ValueError(f"sample rate {self.sample_rate} out of range (8000..384000)")
        if not fmt.min_bitrate <= self.bitrate <= fmt.max_bitrate:
            raise ValueError(
                f"bitrate {self.bitrate} out of range for {self.format} "
                f"({fmt.min_bitrate}..{fmt.max_bitrate} bit/s)"
            )
        if not (math.isfinite(self.offset) and self.offset >= 0):
            raise ValueError(f"offset must be a finite number of seconds ≥ 0, not {self.offset}")

    @property
    def mime(self) -> str:
        return mime_for_format(self.format)

    @property
    def offset_ms(self) -> int:
        """The offset as used in cache keys (millisecond resolution)."""
        return round(self.offset * 1000)


class TranscodeLimiter:
    """At most ``max_concurrent`` transcodes; the next one gets TranscodeBusy, not a queue."""

    def __init__(self, max_concurrent: int) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be ≥ 1")
        self._limiter = trio.CapacityLimiter(max_concurrent)

    def acquire_nowait(self, borrower: object) -> None:
        try:
            self._limiter.acquire_on_behalf_of_nowait(borrower)
        except trio.WouldBlock:
            raise TranscodeBusy(int(self._limiter.total_tokens)) from None

    def release(self, borrower: object) -> None:
        self._limiter.release_on_behalf_of(borrower)

    @property
    def in_use(self) -> int:
        return self._limiter.borrowed_tokens

    @property
    def limit(self) -> int:
        return int(self._limiter.total_tokens)


class _Stopped(Exception):
    """The consumer went away; the worker unwinds."""


class _ChannelSink:
    """File-like target for the muxer: coalesces writes and sends them to trio."""

    def __init__(
        self,
        send: Callable[[bytes], None],
        should_stop: Callable[[], bool],
        tee: CacheWriter | None,
    ) -> None:
        self._send = send
        self._should_stop = should_stop
        self._tee = tee
        self._buf = bytearray()
        self._sent_any = False
        self.bytes_out = 0

    def write(self, data: Any) -> int:
        if self._should_stop():
            raise _Stopped
        n = len(data)
        self._buf += data
        if self._tee is not None:
            self._tee.write(bytes(data))
        if not self._sent_any or len(self._buf) >= CHUNK_SIZE:
            self.flush()
        return n

    def flush(self) -> None:
        if self._buf:
            chunk, self._buf = bytes(self._buf), bytearray()
            self._sent_any = True
            self.bytes_out += len(chunk)
            self._send(chunk)


def output_rate(fmt: _Format, rate: int, cap: int | None = None) -> int:
    """The encoder's sample rate for a source rate: the source's when the codec takes it (≤ 48 kHz), else
    44.1 or 48 kHz by family; ``cap`` (a client's limit) lowers it to the highest allowed rate under it."""
    if rate in fmt.rates and rate <= 48000:
        chosen = rate
    else:
        chosen = 44100 if rate % 11025 == 0 and 44100 in fmt.rates else 48000
    if cap and chosen > cap:
        under = [r for r in fmt.rates if r <= cap]
        same_family = [r for r in under if r % 11025 == chosen % 11025]
        chosen = max(same_family or under or [min(fmt.rates)])
    return chosen


def _drop_leading(frame: av.AudioFrame, drop: int) -> av.AudioFrame:
    arr = frame.to_ndarray()
    channels = len(frame.layout.channels)
    arr = arr[:, drop:] if frame.format.is_planar else arr[:, drop * channels :]
    out = av.AudioFrame.from_ndarray(np.ascontiguousarray(arr), format=frame.format.name, layout=frame.layout)
    out.sample_rate = frame.sample_rate
    return out


def _decoded(
    inp: av.container.InputContainer, ins: av.AudioStream, stop: Callable[[], bool]
) -> Iterator[av.AudioFrame]:
    """Every frame decoded from the demuxer's position on; a corrupt packet is skipped."""
    for packet in inp.demux(ins):
        if stop():
            raise _Stopped
        try:
            frames = packet.decode()
        except av.error.InvalidDataError as exc:
            log.debug("skipping undecodable packet: %s", exc)
            continue
        yield from frames


def _seek_targets(offset: float) -> list[float]:
    """Where to seek for ``offset``, best first: PREROLL before it, further back, the start."""
    return sorted({max(0.0, offset - PREROLL), max(0.0, offset - SEEK_RETRY_BACK), 0.0}, reverse=True)


def _seek(inp: av.container.InputContainer, ins: av.AudioStream, target: float, origin: int) -> bool:
    """Seek to the key frame at or before ``target`` s; False when the demuxer cannot."""
    try:
        inp.seek(origin + int(target / ins.time_base), stream=ins, backward=True, any_frame=False)
    except av.FFmpegError as exc:  # e.g. FLAC without a seek table near its end: EPERM from the search
        log.debug("cannot seek to %.3f s: %s", target, exc)
        return False
    return True


def _trimmed_frames(
    inp: av.container.InputContainer, ins: av.AudioStream, offset: float, stop: Callable[[], bool]
) -> Iterator[av.AudioFrame]:
    """Decoded frames from ``offset`` on, trimmed to the exact sample (nothing when it is past the end).

    Times are counted from the stream's ``start_time`` (an MP3's encoder delay),
    as players count them.  A seek that fails, or lands after the offset, is
    retried further back, down to decoding from the start.
    """
    origin = ins.start_time or 0
    base = float(origin * ins.time_base)
    if offset <= 0:
        yield from _frames_after(_decoded(inp, ins, stop), None, base)
        return
    for target in _seek_targets(offset):
        if not _seek(inp, ins, target, origin):
            if target > 0:
                continue
            raise TranscodeFailed(inp.name, "cannot seek to the start")
        frames = _decoded(inp, ins, stop)
        first = next(frames, None)
        if target > 0 and (first is None or _starts_at(first, base) > offset):
            continue  # landed past the offset (or nowhere): look further back
        if first is not None:
            yield from _frames_after(itertools.chain([first], frames), offset, base)
        return


def _starts_at(frame: av.AudioFrame, base: float) -> float:
    """Where ``frame`` starts in the track, in seconds (0 when it carries no time)."""
    return float(frame.pts * frame.time_base) - base if frame.pts is not None else 0.0


def _frames_after(frames: Iterator[av.AudioFrame], offset: float | None, base: float) -> Iterator[av.AudioFrame]:
    """``frames`` without what lies before ``offset`` (None: keep all); pts cleared for the encoder."""
    trimming = offset is not None
    for frame in frames:
        if trimming:
            if frame.pts is None:
                trimming = False
            else:
                drop = round((offset - _starts_at(frame, base)) * frame.sample_rate)
                if drop >= frame.samples:
                    continue
                trimming = False
                if drop > 0:
                    frame = _drop_leading(frame, drop)
        frame.pts = None
        yield frame


def _duration(inp: av.container.InputContainer, ins: av.AudioStream) -> float | None:
    """The stream's length in seconds as its container says (for messages only)."""
    if ins.duration is not None:
        return float(ins.duration * ins.time_base)
    return inp.duration / av.time_base if inp.duration is not None else None


def _transcode(source: Path, spec: TranscodeSpec, sink: _ChannelSink, opened: Callable[[], None], stop) -> None:
    """The worker: runs in its own thread, never touches trio except through ``sink``."""
    fmt = FORMATS[spec.format]
    try:
        inp = av.open(str(source))
    except OSError as exc:  # av's FileNotFoundError, PermissionError… are OSErrors too
        raise SourceUnavailable(source, exc.strerror or str(exc)) from exc
    except av.FFmpegError as exc:
        raise TranscodeFailed(source, str(exc)) from exc
    with inp:
        if not inp.streams.audio:
            raise TranscodeFailed(source, "no audio stream")
        ins = inp.streams.audio[0]
        channels = 1 if ins.codec_context.channels == 1 or spec.channels == 1 else 2
        rate = output_rate(fmt, ins.codec_context.sample_rate or 48000, spec.sample_rate)
        frames = _trimmed_frames(inp, ins, spec.offset, stop)
        first = next(frames, None)
        if first is None and spec.offset == 0:
            raise TranscodeFailed(source, "no decodable audio")
        if first is None:
            raise OffsetPastEnd(source, spec.offset, _duration(inp, ins))
        opened()
        out = av.open(sink, mode="w", format=fmt.container, options=dict(fmt.container_options))
        try:
            ost = out.add_stream(fmt.codec, rate=rate)
            ost.bit_rate = spec.bitrate
            ost.layout = "mono" if channels == 1 else "stereo"
            ost.format = fmt.sample_fmt
            ost.time_base = Fraction(1, rate)
            ost.codec_context.open()
            resampler = av.AudioResampler(
                format=fmt.sample_fmt,
                layout=ost.layout,
                rate=rate,
                frame_size=ost.codec_context.frame_size or None,
            )
            pts = 0

            def encode(frames) -> None:
                nonlocal pts
                for f in frames:
                    f.pts = pts
                    f.time_base = ost.time_base
                    pts += f.samples
                    out.mux(ost.encode(f))

            if first is not None:
                encode(resampler.resample(first))
            for frame in frames:
                encode(resampler.resample(frame))
            encode(resampler.resample(None))
            out.mux(ost.encode(None))
        finally:
            out.close()
    sink.flush()


class TranscodeStream:
    """The body of one running transcode: an async iterator of encoded chunks."""

    def __init__(self, source: Path, spec: TranscodeSpec, limiter: TranscodeLimiter | None) -> None:
        self.source = source
        self.spec = spec
        self._limiter = limiter
        self._send, self._recv = trio.open_memory_channel[bytes](CHANNEL_DEPTH)
        self._stop = threading.Event()
        self._opened = False
        self._ready = trio.Event()
        self._done = trio.Event()
        self.error: BaseException | None = None
        self.completed = False  # the worker reached the end of the input

    @property
    def mime(self) -> str:
        return self.spec.mime

    @property
    def worker_running(self) -> bool:
        return not self._done.is_set()

    async def wait_worker_done(self) -> None:
        await self._done.wait()

    def __aiter__(self) -> TranscodeStream:
        return self

    async def __anext__(self) -> bytes:
        try:
            return await self._recv.receive()
        except (trio.EndOfChannel, trio.ClosedResourceError):
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        """Stop the worker and wait (shielded, bounded) until its thread has ended."""
        self._stop.set()
        self._recv.close()
        with trio.move_on_after(CLOSE_TIMEOUT) as scope:
            scope.shield = True
            await self._done.wait()

    def _start(self, tee: CacheWriter | None) -> None:
        token = trio.lowlevel.current_trio_token()
        send = self._send

        def send_chunk(chunk: bytes) -> None:
            try:
                trio.from_thread.run(send.send, chunk, trio_token=token)
            except (trio.BrokenResourceError, trio.ClosedResourceError, trio.RunFinishedError, trio.Cancelled):
                self._stop.set()
                raise _Stopped from None

        def opened() -> None:
            self._opened = True
            token.run_sync_soon(self._ready.set)

        def work() -> None:
            sink = _ChannelSink(send_chunk, self._stop.is_set, tee)
            try:
                _transcode(self.source, self.spec, sink, opened, self._stop.is_set)
            except BaseException as exc:
                if tee is not None:
                    tee.abort()
                if self._stop.is_set():  # PyAV wraps our _Stopped from inside its write callback
                    raise _Stopped from exc
                raise
            if tee is not None:
                tee.commit()

        def deliver(outcome) -> None:
            try:
                token.run_sync_soon(self._finish, outcome)
            except trio.RunFinishedError:  # the run is over; nothing left to tell
                if tee is not None:
                    tee.abort()

        trio.lowlevel.start_thread_soon(work, deliver, name=f"transcode {self.source.name}")

    def _finish(self, outcome) -> None:
        error = getattr(outcome, "error", None)
        if error is None:
            self.completed = True
        elif not isinstance(error, _Stopped):
            self.error = error
            if self._opened:
                log.warning("transcode of %s stopped early: %r", self.source, error)
        self._send.close()
        if self._limiter is not None:
            self._limiter.release(self)
        self._ready.set()
        self._done.set()


async def start_transcode(
    source: str | os.PathLike[str],
    spec: TranscodeSpec,
    *,
    limiter: TranscodeLimiter | None = None,
    cache_writer: CacheWriter | None = None,
) -> TranscodeStream:
    """Start transcoding ``source``; returns once the input is open and decodable.

    Raises TranscodeBusy at once when ``limiter`` is full, SourceUnavailable
    when the file cannot be opened, TranscodeFailed when it has no decodable audio,
    OffsetPastEnd when there is none at or after ``spec.offset``.  When a ``cache_writer``
    is given, the output is also written there and committed only if the
    whole transcode completes.  The caller must ``aclose()`` the stream.
    """
    stream = TranscodeStream(Path(source), spec, limiter)
    if limiter is not None:
        limiter.acquire_nowait(stream)
    stream._start(cache_writer)
    try:
        await stream._ready.wait()
    except BaseException:
        stream._stop.set()
        stream._recv.close()
        raise
    if not stream._opened:
        error = stream.error
        await stream.aclose()
        if isinstance(error, (TranscodeFailed, SourceUnavailable, OffsetPastEnd)):
            raise error
        raise TranscodeFailed(source, repr(error)) from error
    return stream


def _stat_identity(path: Path) -> str:
    st = os.stat(path)
    return f"stat:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}"


async def serve_transcode(
    source: str | os.PathLike[str],
    spec: TranscodeSpec,
    request_headers: Headers,
    *,
    method: str = "GET",
    limiter: TranscodeLimiter | None = None,
    cache: TranscodeCache | None = None,
    source_identity: str | None = None,
    download_name: str | None = None,
) -> StreamResponse:
    """Serve ``source`` transcoded per ``spec``: from the cache, else live.

    * Cached: served exactly like an original (Range, If-Range, ETag from the
      cache key, 304/416), header ``X-Transcode-Cache: hit``.
    * Live: 200, ``Accept-Ranges: none``, no Content-Length, chunks as they are
      encoded; a Range header is ignored (allowed by RFC 9110).  The result
      enters the cache only if the transcode completes.  HEAD starts nothing.

    ``source_identity`` (e.g. the track's file_id) keys the cache; without it
    the source's device, inode, size and mtime are used.  Raises
    SourceUnavailable, TranscodeBusy, TranscodeFailed, OffsetPastEnd before any
    byte is sent.
    """
    source = Path(source)
    extra = [("Content-Disposition", content_disposition(download_name))] if download_name else []
    key = None
    if cache is not None:
        if source_identity is None:
            try:
                source_identity = await trio.to_thread.run_sync(_stat_identity, source)
            except OSError as exc:
                raise SourceUnavailable(source, exc.strerror or str(exc)) from exc
        key = cache.key(source_identity, spec)
        path = await cache.get(key)
        if path is not None:
            try:
                return await serve_file(
                    path,
                    request_headers,
                    method=method,
                    content_type=spec.mime,
                    content_id=key,
                    extra_headers=[*extra, ("X-Transcode-Cache", "hit")],
                )
            except SourceUnavailable:  # evicted in between: transcode again
                pass
    headers = [("Content-Type", spec.mime), ("Accept-Ranges", "none"), *extra]
    if cache is not None:
        headers.append(("X-Transcode-Cache", "miss"))
    if method.upper() == "HEAD":
        if not await trio.to_thread.run_sync(os.path.isfile, source):
            raise SourceUnavailable(source, "no such file")
        return StreamResponse(200, headers, EmptyBody())
    writer = cache.writer(key) if cache is not None and key is not None else None
    stream = await start_transcode(source, spec, limiter=limiter, cache_writer=writer)
    return StreamResponse(200, headers, stream)
