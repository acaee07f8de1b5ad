"""Registry credentials where docker, podman, skopeo, crane and Istio's tooling look for them.

`$DOCKER_CONFIG/config.json` (default `~/.docker/config.json`):

    {"auths": {"registry.example.com": {"auth": "<base64 user:password>"}},
     "credsStore": "pass",                                   # a helper for every registry
     "credHelpers": {"123.dkr.ecr.eu-west-1.amazonaws.com": "ecr-login"}}   # per registry

A configured helper (`credHelpers` for the host, else `credsStore`) is the `docker-credential-<name>`
program speaking the credential-helper protocol: `get`/`erase` read the server address on stdin,
`store` reads `{"ServerURL", "Username", "Secret"}`; `get` prints that object, and a Username of
`<token>` means Secret is an identity (refresh) token. Writes keep every other key of the file,
replace it atomically and leave it readable by its owner only (0600): it holds passwords.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from wasmbuild import files
from wasmbuild.errors import ConfigError, EnvironmentProblem, RegistryError, from_os_error
from wasmbuild.record import Record

TYPE_CHECKING = False  # not `from typing import ...` nor dataclasses: push and pull start fast (see wasmbuild.record)
if TYPE_CHECKING:
    from typing import Any

DOCKER_HUB_KEY = "https://index.docker.io/v1/"
_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")
IDENTITY_TOKEN_USER = "<token>"
_NOT_FOUND = "credentials not found"


class Credentials(Record):
    _fields = ("username", "password", "identity_token", "source")
    __slots__ = _fields
    username: str
    password: str
    identity_token: str | None  # an OAuth2 refresh token instead of a password
    source: str  # where they came from, for messages

    def __init__(self, username: str, password: str = "", identity_token: str | None = None,
                 source: str = "") -> None:
        self._set(username, password, identity_token, source)

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()


def config_path() -> Path:
    directory = os.environ.get("DOCKER_CONFIG")
    return (Path(directory).expanduser() if directory else Path.home() / ".docker") / "config.json"


def server_key(registry: str) -> str:
    """The key docker uses for `registry` in auths and with helpers."""
    return DOCKER_HUB_KEY if registry in _HUB_ALIASES else registry


def _normalise_key(key: str) -> str:
    """`https://host:5000/v2/` -> `host:5000`, so keys written by older tools still match."""
    if key == DOCKER_HUB_KEY:
        return key
    text = key.split("://", 1)[-1]
    host = text.split("/", 1)[0].lower()
    return DOCKER_HUB_KEY if host in _HUB_ALIASES else host


def load(path: Path | None = None) -> dict[str, Any]:
    path = path or config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise from_os_error(exc, "cannot read the docker config") from exc
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc})", "fix or remove that file") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a JSON object")
    return data


def helper_for(config: dict[str, Any], registry: str) -> str | None:
    helpers = config.get("credHelpers")
    key = server_key(registry)
    if isinstance(helpers, dict):
        for name, helper in helpers.items():
            if _normalise_key(name) == key and isinstance(helper, str) and helper:
                return helper
    store = config.get("credsStore")
    return store if isinstance(store, str) and store else None


def _run_helper(helper: str, action: str, payload: str) -> str:
    import subprocess

    program = f"docker-credential-{helper}"
    try:
        proc = subprocess.run([program, action], input=payload, capture_output=True, text=True, timeout=60)
    except FileNotFoundError as exc:
        raise EnvironmentProblem(f"the credential helper {program} named in {config_path()} is not installed",
                                 f"install {program}, or remove it from credsStore/credHelpers there") from exc
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvironmentProblem(f"the credential helper {program} failed: {exc}") from exc
    if proc.returncode != 0:
        message = (proc.stdout.strip() or proc.stderr.strip() or f"exit code {proc.returncode}").splitlines()[0]
        if action in ("get", "erase") and _NOT_FOUND in message.lower():
            raise LookupError(message)
        raise RegistryError(f"the credential helper {program} {action} failed: {message}")
    return proc.stdout


def find(registry: str, path: Path | None = None) -> Credentials | None:
    """The saved credentials for `registry`: its helper's, else the inline `auths` entry, else None."""
    path = path or config_path()
    config = load(path)
    key = server_key(registry)
    helper = helper_for(config, registry)
    if helper:
        try:
            data = json.loads(_run_helper(helper, "get", key))
        except LookupError:
            data = None
        except ValueError as exc:
            raise RegistryError(f"the credential helper docker-credential-{helper} printed invalid JSON") from exc
        if isinstance(data, dict) and data.get("Username"):
            user, secret = str(data["Username"]), str(data.get("Secret", ""))
            source = f"docker-credential-{helper}"
            if user == IDENTITY_TOKEN_USER:
                return Credentials(user, "", secret, source)
            return Credentials(user, secret, None, source)
    auths = config.get("auths")
    if not isinstance(auths, dict):
        return None
    for name, entry in auths.items():
        if _normalise_key(name) != key or not isinstance(entry, dict):
            continue
        token = entry.get("identitytoken") or None
        if entry.get("auth"):
            try:
                user, _, password = base64.b64decode(entry["auth"]).decode("utf-8").partition(":")
            except (ValueError, UnicodeDecodeError) as exc:
                raise ConfigError(f"{path}: auths.{name}.auth is not base64 of user:password",
                                  f"run 'wasmbuild login {registry}' again") from exc
            return Credentials(user, password, token, str(path))
        if entry.get("username"):
            return Credentials(str(entry["username"]), str(entry.get("password", "")), token, str(path))
        if token:
            return Credentials(IDENTITY_TOKEN_USER, "", token, str(path))
    return None


def save(registry: str, credentials: Credentials, path: Path | None = None) -> str:
    """Save credentials (through the configured helper, else inline); returns where they went."""
    path = path or config_path()
    config = load(path)
    key = server_key(registry)
    helper = helper_for(config, registry)
    if helper:
        secret = credentials.identity_token or credentials.password
        user = IDENTITY_TOKEN_USER if credentials.identity_token else credentials.username
        _run_helper(helper, "store", json.dumps({"ServerURL": key, "Username": user, "Secret": secret}))
        return f"docker-credential-{helper}"
    auths = config.get("auths") if isinstance(config.get("auths"), dict) else {}
    assert isinstance(auths, dict)
    for name in [n for n in auths if _normalise_key(n) == key]:
        del auths[name]
    entry: dict[str, str] = {"auth": base64.b64encode(
        f"{credentials.username}:{credentials.password}".encode()).decode()}
    if credentials.identity_token:
        entry = {"identitytoken": credentials.identity_token}
    auths[key] = entry
    config["auths"] = auths
    write(config, path)
    return str(path)


def remove(registry: str, path: Path | None = None) -> list[str]:
    """Forget the credentials for `registry` everywhere they are; returns where they were."""
    path = path or config_path()
    config = load(path)
    key = server_key(registry)
    removed: list[str] = []
    helper = helper_for(config, registry)
    if helper:
        try:
            _run_helper(helper, "erase", key)
            removed.append(f"docker-credential-{helper}")
        except LookupError:
            pass
    auths = config.get("auths")
    if isinstance(auths, dict):
        names = [n for n in auths if _normalise_key(n) == key]
        for name in names:
            del auths[name]
        if names:
            write(config, path)
            removed.append(str(path))
    return removed


def write(config: dict[str, Any], path: Path) -> None:
    """Replace `path` with `config` atomically, mode 0600 (a symlinked config is written where it points)."""
    target = path.resolve() if path.is_symlink() else path
    files.write_atomic(target, json.dumps(config, indent="\t") + "\n", mode=0o600, dir_mode=0o700)
