"""Logging in, and pushing and pulling with credentials, against real registries: htpasswd Basic
authentication and Bearer tokens (a real registry verifying JWTs from a token server). Credentials
live in the docker config (DOCKER_CONFIG), or in a credential helper when one is configured."""

from __future__ import annotations

import base64
import json
import stat
import sys
from pathlib import Path

import pytest

from tests.fixtures.common import run_cli
from tests.fixtures.registry import RegistryServer, TokenRegistry
from tests.fixtures.wasm import wasm_module
from wasmbuild import runtime_config
from wasmbuild.store import Store

pytestmark = pytest.mark.registry

CONFIG = runtime_config.default(["v0.2.1"], ["root"])


def login(server: RegistryServer, password: str | None = None, env: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    assert server.username and server.password
    secret = server.password if password is None else password
    return run_cli("login", "-u", server.username, "--password-stdin", server.host, input=secret + "\n", env=env)


def test_push_without_credentials_says_to_log_in(auth_registry: RegistryServer, unique_repo: str,
                                                 docker_config: Path) -> None:
    ref = f"{auth_registry.host}/{unique_repo}:v1"
    Store().put(ref, wasm_module("no-login"), CONFIG)
    result = run_cli("push", ref)
    assert result.returncode == 6
    assert f"{auth_registry.host} requires authentication and no credentials are saved" in result.stderr
    assert f"wasmbuild login {auth_registry.host}" in result.stderr


def test_wrong_password_is_refused_and_nothing_saved(auth_registry: RegistryServer, docker_config: Path) -> None:
    result = login(auth_registry, password="not-the-password")
    assert result.returncode == 6
    assert "refused the credentials of 'filter-dev' (from stdin)" in result.stderr
    assert "401 UNAUTHORIZED" in result.stderr
    assert "Traceback" not in result.stderr
    assert not docker_config.exists()


def test_login_push_pull_logout(auth_registry: RegistryServer, unique_repo: str, docker_config: Path,
                                tmp_path: Path) -> None:
    docker_config.write_text(json.dumps({"auths": {"other.example:5000": {"auth": "eDp5"}}, "psFormat": "table"}))
    result = login(auth_registry)
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(docker_config.stat().st_mode) == 0o600
    saved = json.loads(docker_config.read_text())
    expected = base64.b64encode(f"{auth_registry.username}:{auth_registry.password}".encode()).decode()
    assert saved["auths"][auth_registry.host] == {"auth": expected}
    assert saved["auths"]["other.example:5000"] == {"auth": "eDp5"} and saved["psFormat"] == "table"

    module = wasm_module("with-login")
    ref = f"{auth_registry.host}/{unique_repo}:v1"
    Store().put(ref, module, CONFIG)
    assert run_cli("push", ref).returncode == 0
    pulled = run_cli("pull", ref, env={"WASMBUILD_HOME": str(tmp_path / "other")})
    assert pulled.returncode == 0, pulled.stderr
    assert Store(tmp_path / "other" / "store").get(ref).read_module() == module

    out = run_cli("logout", auth_registry.host)
    assert out.returncode == 0
    assert auth_registry.host not in json.loads(docker_config.read_text())["auths"]
    assert run_cli("logout", auth_registry.host).stderr.startswith("not logged in")
    after = run_cli("pull", ref, env={"WASMBUILD_HOME": str(tmp_path / "third")})
    assert after.returncode == 6


def test_login_without_a_terminal_needs_password_stdin(auth_registry: RegistryServer, docker_config: Path) -> None:
    result = run_cli("login", "-u", "filter-dev", auth_registry.host, input="")
    assert result.returncode == 2
    assert "no terminal" in result.stderr and "--password-stdin" in result.stderr
    assert not docker_config.exists()


HELPER = """#!{python}
import json, pathlib, sys
here = pathlib.Path(__file__).parent
store = here / "helper-store.json"
data = json.loads(store.read_text()) if store.exists() else {{}}
action, payload = sys.argv[1], sys.stdin.read()
with open(here / "helper-calls.log", "a") as log:
    log.write(action + " " + (payload.strip() if action != "store" else json.loads(payload)["ServerURL"]) + "\\n")
if action == "get":
    key = payload.strip()
    if key not in data:
        print("credentials not found in native keychain")
        sys.exit(1)
    print(json.dumps({{"ServerURL": key, "Username": data[key][0], "Secret": data[key][1]}}))
elif action == "store":
    creds = json.loads(payload)
    data[creds["ServerURL"]] = [creds["Username"], creds["Secret"]]
    store.write_text(json.dumps(data))
elif action == "erase":
    key = payload.strip()
    if key not in data:
        print("credentials not found in native keychain")
        sys.exit(1)
    del data[key]
    store.write_text(json.dumps(data))
"""


@pytest.fixture
def credential_helper(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`docker-credential-test` on PATH, keeping its secrets in a JSON file next to it."""
    bin_dir = tmp_path / "helper-bin"
    bin_dir.mkdir()
    script = bin_dir / "docker-credential-test"
    script.write_text(HELPER.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:{__import__('os').environ['PATH']}")
    return bin_dir


@pytest.mark.parametrize("setting", ["credsStore", "credHelpers"])
def test_credential_helper_is_used_for_login_push_and_logout(setting: str, auth_registry: RegistryServer,
                                                             unique_repo: str, docker_config: Path,
                                                             credential_helper: Path) -> None:
    host = auth_registry.host
    config = {"credsStore": "test"} if setting == "credsStore" else {"credHelpers": {host: "test"}}
    docker_config.write_text(json.dumps(config))
    assert login(auth_registry).returncode == 0
    assert "auths" not in json.loads(docker_config.read_text())  # the secret went to the helper only
    assert json.loads((credential_helper / "helper-store.json").read_text()) == {
        host: [auth_registry.username, auth_registry.password]}

    ref = f"{host}/{unique_repo}:v1"
    Store().put(ref, wasm_module(f"helper-{setting}"), CONFIG)
    result = run_cli("push", ref)
    assert result.returncode == 0, result.stderr
    assert f"get {host}" in (credential_helper / "helper-calls.log").read_text()

    assert run_cli("logout", host).returncode == 0
    assert json.loads((credential_helper / "helper-store.json").read_text()) == {}


def test_missing_credential_helper_is_named(auth_registry: RegistryServer, unique_repo: str,
                                            docker_config: Path) -> None:
    docker_config.write_text(json.dumps({"credsStore": "does-not-exist"}))
    ref = f"{auth_registry.host}/{unique_repo}:v1"
    Store().put(ref, wasm_module("no-helper"), CONFIG)
    result = run_cli("push", ref)
    assert result.returncode == 5
    assert "docker-credential-does-not-exist" in result.stderr and "not installed" in result.stderr


def test_bearer_token_registry(token_registry: TokenRegistry, unique_repo: str, docker_config: Path,
                               tmp_path: Path) -> None:
    server = token_registry.server
    ref = f"{server.host}/{unique_repo}:v1"
    module = wasm_module("bearer")
    Store().put(ref, module, CONFIG)

    anonymous = run_cli("push", ref)  # the token server grants anonymous users pull only
    assert anonymous.returncode == 6
    assert "requires authentication" in anonymous.stderr and f"wasmbuild login {server.host}" in anonymous.stderr

    assert login(server, password="wrong").returncode == 6
    result = login(server)
    assert result.returncode == 0, result.stderr
    pushed = run_cli("push", ref)
    assert pushed.returncode == 0, pushed.stderr
    scopes = [r["scope"] for r in token_registry.token_log.requests if r["user"] == server.username]
    assert [f"repository:{unique_repo}:pull,push"] in scopes

    assert run_cli("logout", server.host).returncode == 0
    pulled = run_cli("pull", ref, env={"WASMBUILD_HOME": str(tmp_path / "anon")})  # anonymous pull is allowed
    assert pulled.returncode == 0, pulled.stderr
    assert Store(tmp_path / "anon" / "store").get(ref).read_module() == module
