"""Serving original files: bit-exact bytes, Range, conditionals, downloads.

``serve_original`` does the I/O around the pure ``ranges.decide``: it opens the
file and stats the open descriptor in a worker thread (so facts and bytes come
from the same inode), decides, and returns a :class:`StreamResponse` whose
body reads the chosen span in bounded chunks, each in a worker thread.

The body owns the file descriptor.  ``aclose()`` closes it synchronously (no
checkpoint), so closing works even inside a cancelled scope — which is exactly
where a server closes the body when the client disconnects.  Quart calls
``aclose`` on iterable bodies when it is done with them.
"""

from __future__ import annotations

import os
import stat
import unicodedata
import urllib.parse
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import trio

from .errors import SourceUnavailable
from .mime import mime_for
from .ranges import ByteSpan, FileFacts, Headers, decide

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "EmptyBody",
    "FileBody",
    "StreamResponse",
    "content_disposition",
    "serve_file",
    "serve_original",
]

DEFAULT_CHUNK_SIZE = 128 * 1024
MAX_CHUNK_SIZE = 256 * 1024


class EmptyBody:
    """An async iterator over nothing (for HEAD, 304, 412, 416)."""

    def __aiter__(self) -> EmptyBody:
        return self

    async def __anext__(self) -> bytes:
        raise StopAsyncIteration

    async def aclose(self) -> None:
        return None


class FileBody:
    """The bytes of ``span`` of an open descriptor, read in worker threads.

    Takes ownership of ``fd``: it is closed when the span is exhausted, on
    ``aclose()``, or (as a last resort) on garbage collection.
    """

    def __init__(self, fd: int, span: ByteSpan, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        self._fd: int | None = None
        if not 0 < chunk_size <= MAX_CHUNK_SIZE:
            raise ValueError(f"chunk_size must be in 1..{MAX_CHUNK_SIZE}, not {chunk_size}")
        self._fd = fd
        self._pos = span.start
        self._stop = span.stop
        self._chunk_size = chunk_size

    @property
    def closed(self) -> bool:
        return self._fd is None

    def __aiter__(self) -> FileBody:
        return self

    async def __anext__(self) -> bytes:
        if self._fd is None or self._pos >= self._stop:
            self._close()
            raise StopAsyncIteration
        n = min(self._chunk_size, self._stop - self._pos)
        try:
            data = await trio.to_thread.run_sync(os.pread, self._fd, n, self._pos)
        except BaseException:
            self._close()
            raise
        if not data:  # the file shrank under us: end early rather than loop
            self._close()
            raise StopAsyncIteration
        self._pos += len(data)
        return data

    async def aclose(self) -> None:
        self._close()

    def _close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __del__(self) -> None:
        self._close()


@dataclass
class StreamResponse:
    """Everything an HTTP handler needs: pass all three to the framework's response.

    ``body`` is always an async iterator with ``aclose()`` (empty when no body
    is due); ``headers`` already hold Content-Length when the length is known.
    """

    status: int
    headers: list[tuple[str, str]]
    body: AsyncIterator[bytes]  # FileBody, EmptyBody or TranscodeStream; all have aclose()

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None


def content_disposition(filename: str) -> str:
    """``attachment`` with an ASCII fallback and an RFC 6266/8187 ``filename*``."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1] or "download"
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    fallback = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\%' else "_" for c in folded)
    fallback = fallback.strip() or "download"
    quoted = urllib.parse.quote(name, safe="!#$&+-.^_`|~")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quoted}"


def _open_and_stat(path: Path) -> tuple[int, os.stat_result]:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(f"not a regular file: {path}")
        return fd, st
    except BaseException:
        os.close(fd)
        raise


async def serve_file(
    path: str | os.PathLike[str],
    request_headers: Headers,
    *,
    method: str = "GET",
    content_type: str,
    content_id: str | None = None,
    extra_headers: list[tuple[str, str]] | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> StreamResponse:
    """Serve any regular file with full Range/conditional semantics."""
    path = Path(path)
    try:
        fd, st = await trio.to_thread.run_sync(_open_and_stat, path)
    except OSError as exc:
        raise SourceUnavailable(path, exc.strerror or str(exc)) from exc
    try:
        decision = decide(method, request_headers, FileFacts.from_stat(st, content_id=content_id))
    except BaseException:
        os.close(fd)
        raise
    headers = list(decision.headers)
    if decision.status in (200, 206):
        headers.append(("Content-Type", content_type))
        headers.extend(extra_headers or ())
    if decision.span is None or decision.span.length == 0:
        os.close(fd)
        return StreamResponse(decision.status, headers, EmptyBody())
    return StreamResponse(decision.status, headers, FileBody(fd, decision.span, chunk_size=chunk_size))


async def serve_original(
    path: str | os.PathLike[str],
    request_headers: Headers | Mapping[str, str],
    *,
    method: str = "GET",
    download_name: str | None = None,
    content_id: str | None = None,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
) -> StreamResponse:
    """Serve an original audio file bit-exact.

    ``download_name`` adds ``Content-Disposition: attachment``; ``content_id``
    (e.g. the track's file_id) makes the ETag content-based.  The caller has
    already confined ``path`` to a library root (library/paths.py).
    """
    extra = [("Content-Disposition", content_disposition(download_name))] if download_name else []
    return await serve_file(
        path,
        request_headers,
        method=method,
        content_type=mime_for(path),
        content_id=content_id,
        extra_headers=extra,
        chunk_size=chunk_size,
    )
