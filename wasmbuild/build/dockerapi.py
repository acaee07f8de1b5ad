"""One way to reach the Docker daemon, with its failures turned into our errors.

docker-py raises a handful of exception types (requests' ConnectionError wrapped in
DockerException, APIError, ImageNotFound...). Everything here maps them to one-line messages
with a hint, so no caller ever shows a docker-py traceback.
"""

from __future__ import annotations

import os
from typing import Any

from wasmbuild.errors import EnvironmentProblem

START_HINT = "start the Docker daemon ('sudo systemctl start docker' or 'sudo dockerd &')"
DAEMON_HINT = f"{START_HINT}, or build with this machine's tools: --backend host"


def with_docker_host(hint: str) -> str:
    """`hint`, plus a word about DOCKER_HOST when it is set: then it, not the daemon, is often the
    problem (a stale export, a typo, a remote daemon that went away)."""
    host = os.environ.get("DOCKER_HOST")
    return f"{hint}; or check DOCKER_HOST={host} (unset it for the local daemon)" if host else hint


def describe_host() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect(timeout: int = 600, hint: str = DAEMON_HINT) -> Any:
    """A docker-py client that has answered a ping; EnvironmentProblem (exit 5) when the daemon is down.
    `hint` says what to do then (building has --backend host; the builder commands have no way round)."""
    import docker

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # DockerException, OSError, and requests' own errors when docker-py does not wrap them
        raise EnvironmentProblem(f"the Docker daemon at {describe_host()} does not answer ({_short(exc)})",
                                 with_docker_host(hint)) from None
    return client


def ping_problem(timeout: int = 3) -> str | None:
    """None when a daemon answers quickly, else why not in a few words."""
    import docker

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # DockerException, OSError and requests' own errors alike
        return _short(exc)
    client.close()
    return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    # requests' messages nest the cause several levels deep; the innermost part says the most
    if "Connection refused" in text or "ConnectionRefused" in text:
        return "connection refused"
    if "No such file or directory" in text or "FileNotFoundError" in text:
        return "no socket there"
    if "Permission denied" in text:
        return "permission denied on the socket"
    return text[:200]


def api_error_text(exc: BaseException) -> str:
    """The daemon's own explanation from an APIError, without docker-py's wrapping."""
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return str(explanation.decode() if isinstance(explanation, bytes) else explanation)
    return _short(exc)
