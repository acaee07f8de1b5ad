"""Two questions to the Docker daemon without importing docker-py: does it answer, and what is the id
of an image. A no-op `wasmbuild build` needs only these, and docker-py (with requests and urllib3)
costs more to import than the whole no-op build may take. Other DOCKER_HOST schemes (tcp, ssh)
fall back to docker-py."""

from __future__ import annotations

import json
import os
import socket
from urllib.parse import quote

DEFAULT_SOCKET = "/var/run/docker.sock"


def socket_path() -> str | None:
    """The daemon's unix socket, or None when DOCKER_HOST names another kind of endpoint."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET
    if host.startswith("unix://"):
        return host[len("unix://"):]
    return None


def _get(path: str, timeout: float) -> tuple[int, bytes]:
    """An HTTP/1.0 GET over the socket: the daemon answers with a plain body and closes, so no
    chunked decoding is needed (and http.client, with its email-parsing imports, is not)."""
    address = socket_path()
    if address is None:
        raise NotImplementedError
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(address)
        sock.sendall(f"GET {path} HTTP/1.0\r\nHost: docker\r\n\r\n".encode("ascii"))
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise OSError(f"not an HTTP answer from {address}")
    return int(status_line[1]), body


def ping(timeout: float = 3) -> bool:
    return ping_problem(timeout) is None


def ping_problem(timeout: float = 3) -> str | None:
    """None when the daemon answers, else why not, in a few words."""
    import errno

    try:
        status, _body = _get("/_ping", timeout)
    except NotImplementedError:  # tcp:// and ssh:// daemons: docker-py knows how to reach them
        from wasmbuild.build import dockerapi

        return dockerapi.ping_problem(int(timeout) or 1)
    except OSError as exc:
        if exc.errno in (errno.EACCES, errno.EPERM):
            return "permission denied on its socket: add your user to the docker group"
        if exc.errno == errno.ENOENT:
            return "no socket there"
        if exc.errno == errno.ECONNREFUSED:
            return "connection refused"
        return exc.strerror or str(exc) or "no answer"
    return None if status == 200 else f"it answered HTTP {status}"


def image_id(reference: str, timeout: float = 10) -> str | None:
    """The image's id ("sha256:..."), None when the daemon has no such image."""
    try:
        status, body = _get(f"/images/{quote(reference, safe='')}/json", timeout)
    except NotImplementedError:
        from wasmbuild.build import dockerapi
        from wasmbuild.build.image import find

        info = find(dockerapi.connect(), reference)
        return info.id if info is not None else None
    if status == 404:
        return None
    if status != 200:
        raise OSError(f"docker answered {status} for image {reference}")
    image: dict[str, object] = json.loads(body)
    return str(image["Id"])
