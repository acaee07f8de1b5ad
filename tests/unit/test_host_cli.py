"""`wasmbuild run` as a user runs it: a real process, real WAT filters, text and --json output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.common import run_cli
from tests.fixtures.host import HELPERS, wat_filter
from wasmbuild.commands.run import parse_header
from wasmbuild.errors import UsageError

# Logs its root id and the property my.prop; counts requests; answers 403 locally when the
# request has x-deny; otherwise adds hello: world! to the response; rejects configuration "bad".
PROBE = HELPERS + """
(func (export "proxy_on_configure") (param $ctx i32) (param $size i32) (result i32)
  (if (result i32) (i32.eq (local.get $size) (i32.const 3))
    (then (drop (call $proxy_log (i32.const 3) <<rejected>>)) (i32.const 0))
    (else (i32.const 1))))
(func (export "proxy_on_vm_start") (param i32 i32) (result i32)
  (drop (call $proxy_define_metric (i32.const 0) <<metric>> (i32.const 200)))
  (drop (call $proxy_get_property <<root_prop>> (i32.const 0) (i32.const 4)))
  (call $say_out (i32.const 0) (i32.const 4))
  (i32.const 1))
(func (export "proxy_on_request_headers") (param $ctx i32) (param i32 i32) (result i32)
  (drop (call $proxy_increment_metric (i32.load (i32.const 200)) (i64.const 1)))
  (if (i32.eqz (call $proxy_get_property <<my_prop>> (i32.const 0) (i32.const 4)))
    (then (call $say_out (i32.const 0) (i32.const 4))))
  (if (i32.eqz (call $proxy_get_header_map_value (i32.const 0) <<deny>> (i32.const 0) (i32.const 4)))
    (then
      (drop (call $proxy_send_local_response (i32.const 403) <<details>> <<denied>> <<denied_headers>>
                                             (i32.const -1)))
      (return (i32.const 1))))
  (i32.const 0))
(func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
  (drop (call $proxy_add_header_map_value (i32.const 2) <<hello>> <<world>>))
  (i32.const 0))
"""
STRINGS = {
    "rejected": "configuration rejected", "metric": "requests_total", "root_prop": "plugin_root_id",
    "my_prop": b"my\x00prop", "deny": "x-deny", "details": "denied_by_probe", "denied": "go away",
    "denied_headers": bytes.fromhex("01000000" "0c000000" "0a000000") + b"content-type\x00text/plain\x00",
    "hello": "hello", "world": "world!",
}


@pytest.fixture
def probe(tmp_path: Path) -> Path:
    path = tmp_path / "probe.wasm"
    path.write_bytes(wat_filter(PROBE, strings=STRINGS))
    return path


def run_json(*args: str) -> dict[str, object]:
    result = run_cli("run", *args, "--json")
    assert result.returncode == 0, result.stderr
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_defaults_and_the_exact_json_shape(probe: Path) -> None:
    report = run_json(str(probe), "--root-id", "probe_root")
    assert report == {
        "request": {"headers": [[":method", "GET"], [":path", "/"], [":authority", "localhost"], [":scheme", "http"]],
                    "body": None, "action": "continue"},
        "response": {"headers": [[":status", "200"], ["hello", "world!"]], "body": None, "action": "continue"},
        "local_response": None,
        "logs": [{"level": "info", "message": "probe_root"}],
        "metrics": {"requests_total": 1},
    }


def test_headers_bodies_and_properties_from_the_command_line(probe: Path, tmp_path: Path) -> None:
    body_file = tmp_path / "body.bin"
    body_file.write_bytes(b"from a file")
    report = run_json(str(probe), "-H", ":path: /api?x=1", "--request-header", "X-Trace: a:b", "--request-body",
                      f"@{body_file}", "--response-header", ":status: 201", "--response-body", "done",
                      "--property", "my.prop=forty-two")
    assert report["request"] == {"headers": [[":path", "/api?x=1"], ["x-trace", "a:b"]], "body": "from a file",
                                 "action": "continue"}
    assert report["response"] == {"headers": [[":status", "201"], ["hello", "world!"]], "body": "done",
                                  "action": "continue"}
    assert {"level": "info", "message": "forty-two"} in report["logs"]  # type: ignore[operator]


def test_a_local_response_replaces_the_response(probe: Path) -> None:
    report = run_json(str(probe), "-H", "x-deny: 1")
    assert report["response"] is None
    assert report["local_response"] == {"status": 403, "headers": [["content-type", "text/plain"]], "body": "go away"}
    assert report["request"]["action"] == "pause"  # type: ignore[index]


def test_text_output_is_readable(probe: Path) -> None:
    result = run_cli("run", str(probe), "-H", "x-deny: yes")
    assert result.returncode == 0
    assert "request (pause)" in result.stdout
    assert "local response 403 (denied_by_probe)" in result.stdout
    assert "  content-type: text/plain" in result.stdout
    assert "requests_total = 1" in result.stdout


def test_the_root_id_comes_from_runtime_config_beside_the_module(probe: Path) -> None:
    (probe.parent / "runtime-config.json").write_text(json.dumps(
        {"type": "envoy_proxy", "abiVersions": ["v0.2.1"], "config": {"rootIds": ["from_runtime_config"]}}))
    assert run_json(str(probe))["logs"] == [{"level": "info", "message": "from_runtime_config"}]
    assert run_json(str(probe), "--root-id", "explicit")["logs"] == [{"level": "info", "message": "explicit"}]


def test_the_root_id_comes_from_the_enclosing_project(tmp_path: Path) -> None:
    (tmp_path / "wasmbuild.toml").write_text('[project]\nname = "probe"\nlanguage = "cpp"\nroot_id = "proj_root"\n')
    module = tmp_path / "build" / "filter.wasm"
    module.parent.mkdir()
    module.write_bytes(wat_filter(PROBE, strings=STRINGS))
    assert run_json(str(module))["logs"] == [{"level": "info", "message": "proj_root"}]


def test_a_stored_module_runs_by_reference_with_its_runtime_config(probe: Path) -> None:
    from wasmbuild import runtime_config
    from wasmbuild.store import Store

    Store().put("probe:v1", probe.read_bytes(), runtime_config.default(["v0.2.1"], ["stored_root"]))
    assert run_json("probe:v1")["logs"] == [{"level": "info", "message": "stored_root"}]


def test_a_rejected_configuration_exits_1_and_shows_why(probe: Path) -> None:
    result = run_cli("run", str(probe), "--plugin-config", "bad")
    assert result.returncode == 1
    assert "rejected its plugin configuration" in result.stderr
    assert "configuration rejected" in result.stderr
    assert "[warn] configuration rejected" in result.stdout


@pytest.mark.parametrize("args, message", [
    (["-H", "no-colon"], "has no 'name: value' colon"),
    (["--property", "novalue"], "is not PATH=VALUE"),
    (["--plugin-config", "@"], "--plugin-config @ names no file"),
    (["--budget", "0"], "--budget must be a positive"),
])
def test_usage_errors_exit_2(probe: Path, args: list[str], message: str) -> None:
    result = run_cli("run", str(probe), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


# Not found is exit 3 here as in every other command (deploy envoy, package, inspect, push...):
# scripts tell "you typed it wrong" (2) from "it is not there" (3) the same way everywhere.
@pytest.mark.parametrize("args, message", [
    (["--request-body", "@/nonexistent/body"], "--request-body @/nonexistent/body: no such file"),
    (["--plugin-config", "@/nonexistent/conf.json"], "--plugin-config @/nonexistent/conf.json: no such file"),
])
def test_an_at_file_that_does_not_exist_exits_3(probe: Path, args: list[str], message: str) -> None:
    result = run_cli("run", str(probe), *args)
    assert result.returncode == 3
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_module_exits_3(tmp_path: Path) -> None:
    result = run_cli("run", str(tmp_path / "missing.wasm"))
    assert result.returncode == 3
    assert "no such file" in result.stderr
    result = run_cli("run", "not-stored:v9")
    assert result.returncode == 3


@pytest.mark.parametrize("args, code, reason", [
    (["{missing}"], 3, "not-found"),
    (["{probe}", "-H", "no-colon"], 2, "usage"),
    (["{probe}", "--request-body", "@/nonexistent"], 3, "not-found"),
    (["{text}"], 1, None),
])
def test_json_is_one_object_whatever_fails(probe: Path, tmp_path: Path, args: list[str], code: int,
                                           reason: str | None) -> None:
    text = tmp_path / "notes.wasm"
    text.write_text("not a module")
    paths = {"probe": str(probe), "missing": str(tmp_path / "missing.wasm"), "text": str(text)}
    result = run_cli("run", *[a.format(**paths) for a in args], "--json")
    assert result.returncode == code, result.stderr
    report = json.loads(result.stdout)
    assert report["request"] is None and report["response"] is None and report["logs"] == []
    assert report["error"]["reason"] == reason and report["error"]["message"] in result.stderr


def test_header_values_bodies_and_properties_that_are_not_utf8_reach_the_filter(probe: Path) -> None:
    # argv bytes that are not UTF-8 (Latin-1 text, binary from $(...)) are passed through, not a crash
    result = run_cli("run", str(probe), "-H", "x-name: caf\udce9", "--property", "my.prop=\udcff!",
                     "--request-body", "\udcfe", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["request"]["headers"] == [["x-name", "caf\ufffd"]]
    assert report["request"]["body"] == "\ufffd"
    assert {"level": "info", "message": "\ufffd!"} in report["logs"]
    bad_path = run_cli("run", str(probe), "--property", "my.pr\udcffop=1")
    assert bad_path.returncode == 2 and "is not UTF-8 text" in bad_path.stderr


def test_a_huge_file_that_is_not_a_module_is_refused_without_reading_it(tmp_path: Path) -> None:
    # the header of a 1.5 GiB custom section, and a sparse file that size: refused from its headers
    huge = tmp_path / "huge.wasm"
    with open(huge, "wb") as handle:
        handle.write(b"\0asm\1\0\0\0\0\x80\x80\x80\x80\x06")
        handle.truncate(1536 * 1024 * 1024)
    result = run_cli("run", str(huge), address_space=1024 * 1024 * 1024)
    assert result.returncode == 1 and "not a valid WebAssembly module" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("text, expected", [
    (":path: /", (":path", "/")),
    (":authority:example.com:8080", (":authority", "example.com:8080")),
    ("X-Upper:  spaced value ", ("x-upper", "spaced value")),
    ("empty:", ("empty", "")),
])
def test_header_arguments_split_at_the_first_colon_after_the_first_character(text: str,
                                                                             expected: tuple[str, str]) -> None:
    assert parse_header(text) == expected


@pytest.mark.parametrize("text", ["nocolon", ":", ": value"])
def test_bad_header_arguments(text: str) -> None:
    with pytest.raises(UsageError):
        parse_header(text)
