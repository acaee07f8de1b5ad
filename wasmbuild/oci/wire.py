"""HTTP/1.1 on a socket: one connection, one request at a time, strict about what comes back.

Why not `http.client`: it imports `ssl` and the `email` parser at start-up, ~17 ms of CPU on
every `wasmbuild push`/`pull` even against a plain-HTTP registry on localhost, which is a large
share of a command that moves a 1 MB module in a few milliseconds. What registries need from
HTTP/1.1 is small: request line and headers, and responses framed by Content-Length, chunked
transfer coding or connection close. TLS is imported only for https (and CONNECT tunnels through
proxies). Everything malformed or cut short raises `ProtocolError`, an OSError, so callers treat
it like any broken connection.
"""

from __future__ import annotations

import io
import socket

TYPE_CHECKING = False  # not `from typing import ...` nor dataclasses: push and pull start fast (see wasmbuild.record)
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Protocol

    class _Lines(Protocol):
        def read(self, size: int = -1, /) -> bytes | None: ...

        def readline(self, size: int = -1, /) -> bytes: ...

_MAX_LINE = 65536
_MAX_HEADERS = 200
_SEND_PIECE = 256 * 1024


class ProtocolError(OSError):
    """The peer sent something that is not HTTP/1.1, or closed the connection too early."""


class IncompleteBody(ProtocolError):
    def __init__(self, received: int, expected: int | None) -> None:
        of = f" of {expected}" if expected is not None else ""
        super().__init__(f"the connection closed after {received}{of} bytes of the body")
        self.received = received


class Body:
    """A response body, read in pieces; `done` once the framing says it is complete."""

    def __init__(self, reader: io.BufferedReader, length: int | None, chunked: bool) -> None:
        self._reader = reader
        self._remaining = length  # of the body (length framing) or of the current chunk (chunked)
        self._chunked = chunked
        self._received = 0
        self._expected = length
        self.done = length == 0 and not chunked

    def read(self, size: int = 256 * 1024) -> bytes:
        if self.done:
            return b""
        if self._chunked:
            return self._read_chunked(size)
        if self._remaining is None:  # until the connection closes
            data = self._reader.read1(size)
            if not data:
                self.done = True
            self._received += len(data)
            return data
        data = self._reader.read1(min(size, self._remaining))
        if not data:
            raise IncompleteBody(self._received, self._expected)
        self._received += len(data)
        self._remaining -= len(data)
        if self._remaining == 0:
            self.done = True
        return data

    def _read_chunked(self, size: int) -> bytes:
        if not self._remaining:
            line = _read_line(self._reader)
            try:
                self._remaining = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise ProtocolError(f"bad chunk size line {line[:40]!r}") from exc
            if self._remaining == 0:
                while _read_line(self._reader) not in (b"\r\n", b"\n"):  # trailers
                    pass
                self.done = True
                return b""
        data = self._reader.read(min(size, self._remaining))
        if not data:
            raise IncompleteBody(self._received, None)
        self._received += len(data)
        self._remaining -= len(data)
        if self._remaining == 0 and _read_line(self._reader) not in (b"\r\n", b"\n"):
            raise ProtocolError("a chunk is not followed by CRLF")
        return data

    def read_all(self, limit: int | None = None) -> bytes:
        parts, total = [], 0
        while not self.done:
            piece = self.read()
            if not piece:
                break
            parts.append(piece)
            total += len(piece)
            if limit is not None and total > limit:
                raise ProtocolError(f"the body is larger than {limit} bytes")
        return b"".join(parts)


def _read_line(reader: _Lines) -> bytes:
    line = reader.readline(_MAX_LINE + 1)
    if not line:
        raise ProtocolError("the connection closed")
    if len(line) > _MAX_LINE:
        raise ProtocolError("a header line is too long")
    return line


def _read_head(reader: _Lines) -> tuple[str, int, str, dict[str, str]]:
    line = _read_line(reader)
    parts = line.decode("latin-1").rstrip("\r\n").split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise ProtocolError(f"not an HTTP/1.x status line: {line[:60]!r}")
    headers: dict[str, str] = {}
    last = ""
    for _ in range(_MAX_HEADERS + 1):
        raw = _read_line(reader)
        if raw in (b"\r\n", b"\n"):
            return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else "", headers
        text = raw.decode("latin-1").rstrip("\r\n")
        if text[:1] in (" ", "\t") and last:  # obsolete line folding
            headers[last] += " " + text.strip()
            continue
        name, sep, value = text.partition(":")
        if not sep:
            raise ProtocolError(f"malformed header line {text[:60]!r}")
        last = name.strip().lower()
        headers[last] = f"{headers[last]}, {value.strip()}" if last in headers else value.strip()
    raise ProtocolError("too many header lines")


class Connection:
    """A connection to `host:port`, optionally TLS, optionally through an HTTP proxy."""

    def __init__(self, host: str, port: int, *, timeout: float, tls: Any = None,
                 proxy: tuple[str, int, dict[str, str]] | None = None) -> None:
        self.host = host
        self.port = port
        self.will_close = False
        name = proxy[0] if proxy else host
        # An ASCII name goes to getaddrinfo as bytes: a str is always run through the idna codec
        # (encodings.idna + stringprep + unicodedata: ~1.2 ms of every push and pull) to give the same
        # bytes. Only a non-ASCII (internationalised) name needs the codec.
        address = (name.encode("ascii") if name.isascii() else name, proxy[1] if proxy else port)
        sock = socket.create_connection(address, timeout=timeout)  # type: ignore[arg-type]
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if proxy and tls is not None:
                _tunnel(sock, host, port, proxy[2])
            if tls is not None:
                sock = tls.wrap_socket(sock, server_hostname=host)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        reader: Any = sock.makefile("rb", buffering=65536)
        self.reader: io.BufferedReader = reader

    def close(self) -> None:
        self.will_close = True
        try:
            self.reader.close()
        finally:
            self.sock.close()

    def request(self, method: str, target: str, headers: dict[str, str], body: bytes | None,
                progress: Callable[[int], None] | None = None) -> tuple[int, str, dict[str, str], Body]:
        """Send one request and read the response head; the body is the caller's to read."""
        lines = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in headers.items()]
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if body and len(body) <= _SEND_PIECE and progress is None:
            self.sock.sendall(head + body)
        else:
            self.sock.sendall(head)
            view = memoryview(body or b"")
            for start in range(0, len(view), _SEND_PIECE):
                piece = view[start : start + _SEND_PIECE]
                self.sock.sendall(piece)
                if progress is not None:
                    progress(len(piece))
        while True:
            version, status, reason, response_headers = _read_head(self.reader)
            if not 100 <= status < 200 or status == 101:
                break
        connection = response_headers.get("connection", "").lower()
        self.will_close = "close" in connection or (version == "HTTP/1.0" and "keep-alive" not in connection)
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return status, reason, response_headers, Body(self.reader, 0, False)
        if "chunked" in response_headers.get("transfer-encoding", "").lower():
            return status, reason, response_headers, Body(self.reader, None, True)
        length = response_headers.get("content-length")
        if length is not None:
            try:
                size = int(length.split(",")[0])
            except ValueError as exc:
                raise ProtocolError(f"bad Content-Length {length!r}") from exc
            if size < 0:
                raise ProtocolError(f"bad Content-Length {length!r}")
            return status, reason, response_headers, Body(self.reader, size, False)
        self.will_close = True
        return status, reason, response_headers, Body(self.reader, None, False)


def _tunnel(sock: socket.socket, host: str, port: int, headers: dict[str, str]) -> None:
    """CONNECT through an HTTP proxy, so TLS runs end to end with the registry."""
    lines = [f"CONNECT {host}:{port} HTTP/1.1", f"Host: {host}:{port}"] + [f"{k}: {v}" for k, v in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    reader = sock.makefile("rb", buffering=0)
    _version, status, reason, _headers = _read_head(reader)
    if status != 200:
        raise ProtocolError(f"the proxy refused to connect to {host}:{port}: {status} {reason}")
