"""Challenge parsing, the docker config (keys, helpers, atomic 0600 writes), proxies and loopback."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from tests.fixtures.common import run_cli
from wasmbuild.errors import ConfigError
from wasmbuild.oci import dockerconfig
from wasmbuild.oci.auth import parse_challenge
from wasmbuild.oci.http import Response, _bypassed, describe, is_loopback


def test_parse_bearer_challenge_with_commas_in_quotes() -> None:
    challenge = parse_challenge('Bearer realm="https://auth.example.com/token",service="registry.example.com",'
                                'scope="repository:a/b:pull,push"')
    assert challenge is not None
    assert challenge.scheme == "bearer"
    assert challenge.params == {"realm": "https://auth.example.com/token", "service": "registry.example.com",
                                "scope": "repository:a/b:pull,push"}


def test_parse_basic_challenge() -> None:
    challenge = parse_challenge('Basic realm="wasmbuild-test"')
    assert challenge is not None and challenge.scheme == "basic"
    assert parse_challenge("") is None


def _auth(user: str, password: str) -> str:
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_find_matches_keys_written_by_older_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text(json.dumps({"auths": {
        "https://reg.example.com:5000/v2/": {"auth": _auth("alice", "pa:ss")},
        "https://index.docker.io/v1/": {"auth": _auth("bob", "hub")},
        "tokens.example.com": {"identitytoken": "refresh-me"},
    }}))
    found = dockerconfig.find("reg.example.com:5000")
    assert found is not None and (found.username, found.password) == ("alice", "pa:ss")
    hub = dockerconfig.find("docker.io")
    assert hub is not None and hub.username == "bob"
    token = dockerconfig.find("tokens.example.com")
    assert token is not None and token.identity_token == "refresh-me"
    assert dockerconfig.find("elsewhere.example.com") is None


def test_save_is_atomic_0600_and_keeps_other_keys(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "d"))
    path = dockerconfig.config_path()
    assert path == tmp_path / "d" / "config.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"auths": {"http://reg:5000": {"auth": "old"}}, "detachKeys": "ctrl-x"}))
    path.chmod(0o644)
    dockerconfig.save("reg:5000", dockerconfig.Credentials("u", "p"))
    saved = json.loads(path.read_text())
    assert saved == {"auths": {"reg:5000": {"auth": _auth("u", "p")}}, "detachKeys": "ctrl-x"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temporary file left
    assert dockerconfig.remove("reg:5000") == [str(path)]
    assert dockerconfig.remove("reg:5000") == []


def test_a_symlinked_config_is_written_where_it_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = tmp_path / "dotfiles" / "docker.json"
    real.parent.mkdir()
    real.write_text("{}")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "config.json").symlink_to(real)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "d"))
    dockerconfig.save("reg:5000", dockerconfig.Credentials("u", "p"))
    assert (tmp_path / "d" / "config.json").is_symlink()
    assert "reg:5000" in json.loads(real.read_text())["auths"]


def test_invalid_config_is_a_config_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path))
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ConfigError, match=r"config\.json: not valid JSON"):
        dockerconfig.find("reg:5000")


def test_loopback_and_no_proxy() -> None:
    assert is_loopback("localhost:5000") and is_loopback("127.0.0.1:5000") and is_loopback("[::1]:5000")
    assert is_loopback("127.1.2.3") and not is_loopback("registry.example.com:5000")
    assert _bypassed("reg.example.com:443", "localhost,.example.com")
    assert _bypassed("example.com", "example.com") and _bypassed("x.y", "*")
    assert not _bypassed("badexample.com", "example.com")
    assert _bypassed("reg:5000", "reg:5000") and not _bypassed("reg:5001", "reg:5000")


def _response(status: int, reason: str, body: bytes) -> Response:
    return Response(status, reason, {}, "http://r/v2/", body)


def test_describe_quotes_the_registry_errors() -> None:
    body = json.dumps({"errors": [{"code": "DENIED", "message": "requested access to the resource is denied"}]})
    assert describe(_response(403, "Forbidden", body.encode())) == \
        "403 DENIED: requested access to the resource is denied"
    assert describe(_response(502, "Bad Gateway", b"<html>proxy</html>")) == "502 Bad Gateway"
    assert describe(_response(500, "Internal Server Error", b"boom\n")) == "500 Internal Server Error: boom"


def test_an_error_body_without_an_errors_list_has_no_codes() -> None:
    """A proxy or an odd registry may answer 404 with any JSON: no codes, never a crash."""
    from wasmbuild.oci.registry import _codes

    for body in (b'{"errors": 5}', b'{"errors": "denied"}', b"[1, 2]", b"not json", b""):
        assert _codes(_response(404, "Not Found", body)) == set(), body
        assert describe(_response(404, "Not Found", body)).startswith("404 "), body
    mixed = json.dumps({"errors": [7, {"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}).encode()
    assert _codes(_response(404, "Not Found", mixed)) == {"MANIFEST_UNKNOWN"}
    assert describe(_response(404, "Not Found", mixed)) == "404 MANIFEST_UNKNOWN: manifest unknown"


def test_push_needs_a_registry_in_the_ref() -> None:
    result = run_cli("push", "add-header:v1")
    assert result.returncode == 2
    assert "names no registry" in result.stderr and "wasmbuild tag add-header:v1 localhost:5000/" in result.stderr


def test_login_rejects_a_non_registry() -> None:
    result = run_cli("login", "--password-stdin", "-u", "x", "not a host", input="pw")
    assert result.returncode == 2 and "not a registry host" in result.stderr


def test_login_with_an_empty_password_on_stdin_says_where_it_looked() -> None:
    result = run_cli("login", "--password-stdin", "-u", "x", "localhost:5000", input="\n")
    assert result.returncode == 2
    assert "error: the password is empty: stdin had nothing" in result.stderr
    assert "hint: for example: wasmbuild login -u USER --password-stdin REGISTRY < password.txt" in result.stderr


def test_scheme_follows_the_registry_and_the_flags() -> None:
    from wasmbuild.oci.registry import Registry

    assert Registry("localhost:5000").base == "http://localhost:5000/v2/"
    assert Registry("127.0.0.1:5000").base == "http://127.0.0.1:5000/v2/"
    assert Registry("registry.example.com").base == "https://registry.example.com/v2/"
    assert Registry("registry.example.com:5000", plain_http=True).base == "http://registry.example.com:5000/v2/"
    assert Registry("docker.io").base == "https://registry-1.docker.io/v2/"
    assert Registry("registry.example.com", insecure=True).http.verify_tls is False
