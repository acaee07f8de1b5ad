"""The HTTP client registry traffic needs, over `wasmbuild.oci.wire` (plain sockets, TLS on demand).

Why not `requests`: every `wasmbuild push`/`pull` is a fresh process, and importing requests
(plus urllib3) costs 60-90 ms, more than the whole transfer of a typical filter to a nearby
registry (and `http.client` still ~17 ms, see wire.py). What a registry client needs is here:
kept-alive connections per host, bodies sent in pieces (for progress bars), streamed downloads,
redirects for blob downloads (registries send them to a CDN; credentials are not forwarded to
another host), proxies from the environment (HTTPS_PROXY/HTTP_PROXY/NO_PROXY), TLS with the
system trust store (SSL_CERT_FILE honoured by OpenSSL), and retries, which happen only where
repeating a request cannot do harm: GET and HEAD, and requests the caller marks idempotent
(manifest PUTs, starting an upload session).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import urllib.parse

from wasmbuild.errors import RegistryError
from wasmbuild.oci.wire import Body, Connection, ProtocolError

TYPE_CHECKING = False  # not `from typing import ...` nor dataclasses: push and pull start fast (see wasmbuild.record)
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from typing import Any, TypeVar

    T = TypeVar("T")

USER_AGENT = "wasmbuild"
_REDIRECTS = (301, 302, 303, 307, 308)
_RETRY_STATUSES = (429, 502, 503, 504)
_SAFE_METHODS = ("GET", "HEAD")
_IDLE_RECONNECT = 5.0  # seconds; a non-repeatable request never goes out on a connection idle longer
_BACKOFF = (0.2, 0.8, 2.0)
_MAX_BUFFERED = 16 * 1024 * 1024  # bodies read whole (JSON, errors); blobs are streamed
DEFAULT_TIMEOUT = 60.0  # seconds a registry may stay silent (connecting, or mid-answer)
TIMEOUT_VARIABLE = "WASMBUILD_REGISTRY_TIMEOUT"


def default_timeout() -> float:
    """$WASMBUILD_REGISTRY_TIMEOUT seconds (slow links, tests), else 60."""
    from wasmbuild.errors import UsageError

    raw = os.environ.get(TIMEOUT_VARIABLE, "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise UsageError(f"{TIMEOUT_VARIABLE}={raw!r} is not a positive number of seconds",
                         f"unset it for the default of {DEFAULT_TIMEOUT:g}")
    return value


def is_loopback(host: str) -> bool:
    """localhost, 127.0.0.0/8 and ::1: registries that speak plain HTTP by default (as docker assumes)."""
    name = host
    if name.startswith("["):
        name = name[1 : name.index("]")]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    return name == "localhost" or name.startswith("127.") or name == "::1"


class Response:
    """A response. Non-streamed ones are read completely; streamed ones must be read or closed."""

    __slots__ = ("_raw", "_release", "body", "headers", "reason", "status", "url")

    def __init__(self, status: int, reason: str, headers: Mapping[str, str], url: str, body: bytes = b"",
                 _raw: Body | None = None, _release: Callable[[bool], None] | None = None) -> None:
        self.status = status
        self.reason = reason
        self.headers = headers  # names in lower case
        self.url = url
        self.body = body
        self._raw = _raw
        self._release = _release

    def __repr__(self) -> str:
        return f"Response({self.status} {self.reason}, {self.url})"

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def iter_content(self, size: int = 256 * 1024) -> Iterator[bytes]:
        if self._raw is None:
            if self.body:
                yield self.body
            return
        try:
            while True:
                piece = self._raw.read(size)
                if not piece:
                    break
                yield piece
        except OSError as exc:
            self.close(reusable=False)
            raise TransferError(f"the download from {self.url} broke off: {_describe(exc)}",
                                "nothing was stored; try again") from exc
        self.close(reusable=True)

    def close(self, reusable: bool = False) -> None:
        """Give the connection back for reuse if the body was read completely, else drop it."""
        if self._raw is not None:
            raw, self._raw = self._raw, None
            if self._release is not None:
                self._release(reusable and raw.done)

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(reusable=False)


def describe(response: Response) -> str:
    """`404 MANIFEST_UNKNOWN: manifest unknown`: the status and the registry's own error codes and messages."""
    parts: list[str] = []
    for error in registry_errors(response)[:3]:
        if isinstance(error, dict):
            code, message = str(error.get("code") or ""), str(error.get("message") or "")
            parts.append(": ".join(p for p in (code, message) if p))
    text = "; ".join(p for p in parts if p)
    if not text:
        body = response.body[:200].decode("utf-8", "replace").strip() if response.body else ""
        text = response.reason + (f": {body}" if body and "<" not in body[:1] else "")
    return f"{response.status} {' '.join(text.split())}".strip()


def registry_errors(response: Response) -> list[Any]:
    """The `errors` array of a registry's error body (distribution spec), or [] when it has none."""
    if not response.body:
        return []
    import json

    try:
        errors = json.loads(response.body).get("errors")
    except (ValueError, AttributeError):
        return []
    return errors if isinstance(errors, list) else []


class TransferError(RegistryError):
    """The connection failed or broke off (as opposed to the registry answering with an error)."""


def _describe(exc: BaseException) -> str:
    ssl = _ssl_if_loaded()
    if ssl is not None and isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate not trusted ({exc.verify_message})"
    if ssl is not None and isinstance(exc, ssl.SSLError):
        return f"TLS failed ({exc.reason or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ConnectionResetError | BrokenPipeError):
        return "the connection was closed by the other side"
    if isinstance(exc, ProtocolError):
        return str(exc)
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)


def _ssl_if_loaded() -> Any:
    """The ssl module if a TLS connection was made (else no exception can be a TLS one)."""
    import sys

    return sys.modules.get("ssl")


def _hint_for(exc: BaseException, plain: bool) -> str | None:
    ssl = _ssl_if_loaded()
    if ssl is not None and isinstance(exc, ssl.SSLCertVerificationError):
        return "trust the registry's CA (system store or SSL_CERT_FILE), or pass --insecure to skip verification"
    if ssl is not None and isinstance(exc, ssl.SSLError) and "WRONG_VERSION_NUMBER" in str(exc):
        return "the registry speaks plain HTTP: pass --plain-http"
    if isinstance(exc, ConnectionRefusedError):
        return "is the registry running at that address?" + ("" if plain else " (for plain HTTP pass --plain-http)")
    if isinstance(exc, socket.gaierror):
        return "check the registry name in the reference"
    if isinstance(exc, TimeoutError):
        return (f"check the address, and any proxy or firewall on the way; {TIMEOUT_VARIABLE}=SECONDS waits longer "
                f"(default {DEFAULT_TIMEOUT:g})")
    return None


class _Pooled:
    __slots__ = ("absolute", "conn", "last_used")

    def __init__(self, conn: Connection, absolute: bool, last_used: float) -> None:
        self.conn = conn
        self.absolute = absolute  # the connection goes to an HTTP proxy: request lines carry absolute URLs
        self.last_used = last_used


class HttpClient:
    """Connections kept alive per (scheme, host); one client per command run."""

    def __init__(self, verify_tls: bool = True, timeout: float | None = None) -> None:
        self.verify_tls = verify_tls
        self.timeout = timeout if timeout is not None else default_timeout()
        self._idle: dict[tuple[str, str], list[_Pooled]] = {}
        self._lock = threading.Lock()
        self._ssl_context: Any = None

    def close(self) -> None:
        with self._lock:
            for pooled in (p for idle in self._idle.values() for p in idle):
                pooled.conn.close()
            self._idle.clear()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connections ---------------------------------------------------------------------------
    def _context(self) -> Any:
        if self._ssl_context is None:
            import ssl

            context = ssl.create_default_context()
            if not self.verify_tls:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._ssl_context = context
        return self._ssl_context

    def _connect(self, scheme: str, netloc: str) -> tuple[Connection, bool]:
        """A connection to `netloc` and whether to send absolute URLs (through an HTTP proxy)."""
        split = urllib.parse.urlsplit(f"//{netloc}")
        host, port = split.hostname or "", split.port or (443 if scheme == "https" else 80)
        proxy = None if is_loopback(netloc) else _proxy_for(scheme, netloc)
        via = (proxy.hostname or "", proxy.port or 80, _proxy_auth(proxy)) if proxy else None
        tls = self._context() if scheme == "https" else None
        conn = Connection(host, port, timeout=self.timeout, tls=tls, proxy=via)
        return conn, bool(proxy) and scheme == "http"

    # -- requests ------------------------------------------------------------------------------
    def request(self, method: str, url: str, headers: Mapping[str, str] | None = None,
                body: bytes | None = None, *, stream: bool = False, idempotent: bool | None = None,
                progress: Callable[[int], None] | None = None, follow: bool = True) -> Response:
        """Send a request; redirects of GET/HEAD are followed (credentials stay with their host)."""
        repeatable = method in _SAFE_METHODS if idempotent is None else idempotent
        current, sent_headers = url, dict(headers or {})
        origin = urllib.parse.urlsplit(url).netloc
        for _ in range(6):
            response = self._with_retries(method, current, sent_headers, body, stream, repeatable, progress)
            location = response.header("Location")
            if not (follow and method in _SAFE_METHODS and response.status in _REDIRECTS and location):
                return response
            response.close(reusable=not stream)
            current = urllib.parse.urljoin(current, location)
            if urllib.parse.urlsplit(current).netloc != origin:
                sent_headers = {k: v for k, v in sent_headers.items() if k.lower() != "authorization"}
        raise RegistryError(f"too many redirects fetching {url}")

    def _with_retries(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None,
                      stream: bool, repeatable: bool, progress: Callable[[int], None] | None) -> Response:
        attempts = len(_BACKOFF) + 1 if repeatable else 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._once(method, url, headers, body, stream, repeatable, progress)
            except OSError as exc:
                # a registry that said nothing for a whole timeout will not answer the next try either:
                # retrying it turned one silent registry into four minutes of waiting
                final = isinstance(exc, ConnectionRefusedError | socket.gaierror | TimeoutError) or _is_tls_error(exc)
                if last or final:
                    split = urllib.parse.urlsplit(url)
                    why = f"no answer within {self.timeout:g} s" if isinstance(exc, TimeoutError) else _describe(exc)
                    raise TransferError(f"cannot reach {split.netloc} ({method} {split.path}): {why}",
                                        _hint_for(exc, split.scheme == "http")) from exc
                time.sleep(_BACKOFF[attempt])
                continue
            if response.status in _RETRY_STATUSES and not last:
                delay = _retry_after(response.header("Retry-After"), _BACKOFF[attempt])
                response.close(reusable=not stream)
                time.sleep(delay)
                continue
            return response
        raise AssertionError("unreachable")

    def _once(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, stream: bool,
              repeatable: bool, progress: Callable[[int], None] | None, fresh: bool = False) -> Response:
        split = urllib.parse.urlsplit(url)
        key = (split.scheme, split.netloc)
        with self._lock:
            idle = None if fresh else self._idle.get(key)
            pooled = idle.pop() if idle else None
        if pooled is not None and not repeatable and time.monotonic() - pooled.last_used > _IDLE_RECONNECT:
            pooled.conn.close()
            pooled = None
        if pooled is not None:
            conn, absolute = pooled.conn, pooled.absolute
        else:
            conn, absolute = self._connect(split.scheme, split.netloc)
        target = url if absolute else (split.path or "/") + (f"?{split.query}" if split.query else "")
        sent = {"Host": split.netloc, "User-Agent": USER_AGENT, **headers}
        if body is not None or method in ("PUT", "POST", "PATCH"):
            sent["Content-Length"] = str(len(body or b""))
        try:
            status, reason, response_headers, raw = conn.request(method, target, sent, body, progress)
        except OSError:
            conn.close()
            if pooled is not None and repeatable:  # the server had closed the idle connection: once more, anew
                return self._once(method, url, headers, body, stream, repeatable, progress, fresh=True)
            raise
        except BaseException:
            conn.close()
            raise

        def release(reusable: bool) -> None:
            if reusable and not conn.will_close:
                with self._lock:
                    self._idle.setdefault(key, []).append(_Pooled(conn, absolute, time.monotonic()))
            else:
                conn.close()

        response = Response(status, reason, response_headers, url, b"", raw, release)
        if not stream or method == "HEAD":
            try:
                response.body = raw.read_all(_MAX_BUFFERED)
            except BaseException:
                conn.close()
                raise
            response._raw = None
            release(True)
        return response


def concurrently(tasks: Sequence[Callable[[], T]]) -> list[T]:
    """Run `tasks` in threads (blob transfers overlap their round trips); the first failure is raised
    once all have finished, so no transfer is left running behind the caller's back."""
    if len(tasks) <= 1:
        return [task() for task in tasks]
    results: list[Any] = [None] * len(tasks)
    errors: list[BaseException] = []

    def work(index: int) -> None:
        try:
            results[index] = tasks[index]()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(1, len(tasks))]
    for thread in threads:
        thread.start()
    work(0)
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def _is_tls_error(exc: BaseException) -> bool:
    ssl = _ssl_if_loaded()
    return ssl is not None and isinstance(exc, ssl.SSLError)


def _retry_after(value: str | None, default: float) -> float:
    try:
        return min(max(float(value), 0.0), 10.0) if value else default
    except ValueError:
        return default


def _proxy_for(scheme: str, netloc: str) -> urllib.parse.SplitResult | None:
    """The proxy from the environment (HTTPS_PROXY/HTTP_PROXY, NO_PROXY honoured), if any."""
    env = {k.lower(): v for k, v in os.environ.items() if k.lower().endswith("_proxy") and v}
    value = env.get(f"{scheme}_proxy") or env.get("all_proxy")
    if not value:
        return None
    if _bypassed(netloc, env.get("no_proxy", "")):
        return None
    if "://" not in value:
        value = "http://" + value
    return urllib.parse.urlsplit(value)


def _bypassed(netloc: str, no_proxy: str) -> bool:
    """NO_PROXY as curl reads it: `*`, or host names / domain suffixes, each optionally with a port."""
    host = netloc.lower()
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    for item in (i.strip().lower() for i in no_proxy.split(",")):
        if not item:
            continue
        if item == "*":
            return True
        pattern = item.lstrip(".")
        subject = host if ":" in pattern and not pattern.startswith("[") else name
        if subject == pattern or subject.endswith("." + pattern):
            return True
    return False


def _proxy_auth(proxy: urllib.parse.SplitResult) -> dict[str, str]:
    if not proxy.username:
        return {}
    import base64

    user = urllib.parse.unquote(proxy.username)
    password = urllib.parse.unquote(proxy.password or "")
    return {"Proxy-Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}
