"""The HTTP layer under registry traffic's awkward cases, against small servers on 127.0.0.1:
chunked bodies, bodies ended by connection close, redirects to another host (credentials are not
forwarded), retries of safe requests only, keep-alive reuse, and bodies cut short."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from wasmbuild.oci.http import HttpClient, TransferError

Handler = Callable[[BaseHTTPRequestHandler], None]


class Server:
    def __init__(self, handle: Handler, protocol: str = "HTTP/1.1") -> None:
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.connections: set[int] = set()
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = protocol

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                server.requests.append((self.command, self.path, dict(self.headers)))
                server.connections.add(self.client_address[1])
                handle(self)

            do_GET = do_HEAD = do_PUT = do_POST = _any

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve() -> Iterator[Callable[..., Server]]:
    servers: list[Server] = []

    def start(handle: Handler, protocol: str = "HTTP/1.1") -> Server:
        servers.append(Server(handle, protocol))
        return servers[-1]

    yield start
    for server in servers:
        server.close()


def _reply(h: BaseHTTPRequestHandler, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
    h.send_response(status)
    for name, value in (headers or {}).items():
        h.send_header(name, value)
    if "Transfer-Encoding" not in (headers or {}):
        h.send_header("Content-Length", str(len(body)))
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)


def test_chunked_body_and_keep_alive(serve: Callable[..., Server]) -> None:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        for piece in (b"hello ", b"chunked ", b"world"):
            h.wfile.write(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece))
        h.wfile.write(b"0\r\nX-Trailer: yes\r\n\r\n")

    server = serve(handle)
    with HttpClient() as client:
        first = client.request("GET", server.url + "/a")
        second = client.request("GET", server.url + "/b")
    assert first.body == second.body == b"hello chunked world"
    assert len(server.connections) == 1  # the connection was reused


def test_body_ended_by_connection_close(serve: Callable[..., Server]) -> None:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.end_headers()
        h.wfile.write(b"x" * 100_000)

    server = serve(handle, protocol="HTTP/1.0")
    with HttpClient() as client:
        response = client.request("GET", server.url + "/blob", stream=True)
        assert b"".join(response.iter_content(4096)) == b"x" * 100_000


def test_redirect_to_another_host_drops_credentials(serve: Callable[..., Server]) -> None:
    cdn = serve(lambda h: _reply(h, 200, b"blob bytes"))
    registry = serve(lambda h: _reply(h, 307, headers={"Location": cdn.url.replace("127.0.0.1", "localhost")
                                                      + "/storage/blob?sig=1"}))
    with HttpClient() as client:
        response = client.request("GET", registry.url + "/v2/x/blobs/sha256:1", {"Authorization": "Bearer secret"})
    assert response.status == 200 and response.body == b"blob bytes"
    assert registry.requests[0][2].get("Authorization") == "Bearer secret"
    assert "Authorization" not in cdn.requests[0][2]
    assert cdn.requests[0][1] == "/storage/blob?sig=1"


def test_safe_requests_are_retried_and_uploads_are_not(serve: Callable[..., Server]) -> None:
    calls = {"GET": 0, "PUT": 0}

    def handle(h: BaseHTTPRequestHandler) -> None:
        calls[h.command] += 1
        if calls[h.command] == 1:
            _reply(h, 503, b'{"errors":[{"code":"UNAVAILABLE","message":"busy"}]}', {"Retry-After": "0"})
        else:
            _reply(h, 200, b"ok")

    server = serve(handle)
    with HttpClient() as client:
        assert client.request("GET", server.url + "/v2/").status == 200
        assert client.request("PUT", server.url + "/v2/x/blobs/uploads/1?digest=d", body=b"data").status == 503
    assert calls == {"GET": 2, "PUT": 1}


def test_a_body_cut_short_is_a_transfer_error(serve: Callable[..., Server]) -> None:
    def handle(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", "1000")
        h.end_headers()
        h.wfile.write(b"y" * 10)
        h.close_connection = True

    server = serve(handle)
    with HttpClient() as client:
        response = client.request("GET", server.url + "/blob", stream=True)
        with pytest.raises(TransferError, match="broke off"):
            b"".join(response.iter_content())


def test_head_has_no_body_even_with_a_length(serve: Callable[..., Server]) -> None:
    server = serve(lambda h: _reply(h, 200, b"z" * 50))
    with HttpClient() as client:
        head = client.request("HEAD", server.url + "/v2/x/blobs/sha256:1")
        after = client.request("GET", server.url + "/again")
    assert (head.status, head.body, head.header("content-length")) == (200, b"", "50")
    assert after.body == b"z" * 50


def test_a_keep_alive_connection_the_server_dropped_is_replaced(serve: Callable[..., Server]) -> None:
    def handle(h: BaseHTTPRequestHandler) -> None:
        _reply(h, 200, b"fine")
        h.close_connection = True  # without saying "Connection: close": the client finds out on reuse

    server = serve(handle)
    with HttpClient() as client:
        assert client.request("GET", server.url + "/one").body == b"fine"
        assert client.request("GET", server.url + "/two").body == b"fine"
    assert [path for _, path, _ in server.requests] == ["/one", "/two"]


def test_a_registry_that_never_answers_fails_after_one_timeout_not_four(tmp_path: Any) -> None:
    """A listener that accepts connections and says nothing (a hung registry, a black-holing proxy):
    push gives up after one timeout per request, with a hint, instead of retrying each one 4 times."""
    import socket

    from tests.fixtures.common import run_cli
    from tests.fixtures.wasm import minimal_module

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    host = f"127.0.0.1:{listener.getsockname()[1]}"
    module = tmp_path / "filter.wasm"
    module.write_bytes(minimal_module())
    try:
        assert run_cli("package", str(module), "-t", f"{host}/silent:v1").returncode == 0
        result = run_cli("push", f"{host}/silent:v1", env={"WASMBUILD_REGISTRY_TIMEOUT": "1"})
    finally:
        stop.set()
        thread.join()
        for conn in accepted:
            conn.close()
        listener.close()
    assert result.returncode == 6, result.stderr
    assert "no answer within 1 s" in result.stderr and "WASMBUILD_REGISTRY_TIMEOUT" in result.stderr
    assert 1 <= len(accepted) <= 2  # one request per blob (they go in parallel), none retried
