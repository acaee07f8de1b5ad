"""`wasmbuild run`: one HTTP stream through a filter under the local proxy-wasm host.

    wasmbuild run FILTER [--plugin-config TEXT|@FILE|@-] [--vm-config TEXT|@FILE|@-] [--root-id ID]
                  [-H|--request-header 'name: value']... [--request-body TEXT|@FILE|@-]
                  [--response-header 'name: value']... [--response-body TEXT|@FILE|@-]
                  [--property PATH=VALUE]... [--json]

FILTER is a .wasm file or a reference in the local store. Without --root-id the root id comes
from a runtime-config.json beside the module, the enclosing project's wasmbuild.toml
([project] root_id) or its runtime-config.json, or the stored module's runtime config; SDKs only
start a root context whose id matches, so this is what makes `wasmbuild run build/filter.wasm`
work in a scaffolded project. Exit codes: 0 the filter ran, 1 it failed (trap, budget, ABI,
rejected configuration), 2 bad usage. When the filter fails, --json still prints the one object,
with what happened up to the failure and an "error" member {message, callback, reason}.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from wasmbuild.errors import UsageError

TYPE_CHECKING = False  # not `from typing import ...`: --help stays light (see wasmbuild.cli)
if TYPE_CHECKING:
    from typing import Any

    from wasmbuild.testing import Filter, HttpStream


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("filter", metavar="FILTER", help="a .wasm file, or a reference in the local store")
    parser.add_argument("--plugin-config", metavar="TEXT|@FILE", help="the plugin configuration (Envoy's "
                        "configuration.value), as text, @file or @- (stdin)")
    parser.add_argument("--vm-config", metavar="TEXT|@FILE", help="the VM configuration, as text, @file or @- (stdin)")
    parser.add_argument("--root-id", metavar="ID", help="the plugin's root id (default: from runtime-config.json "
                        "or wasmbuild.toml, else empty)")
    parser.add_argument("-H", "--request-header", metavar="'NAME: VALUE'", action="append", default=[],
                        help="a request header (repeatable; default :method GET, :path /, :authority localhost, "
                        ":scheme http)")
    parser.add_argument("--request-body", metavar="TEXT|@FILE", help="the request body, as text, @file or @- (stdin)")
    parser.add_argument("--response-header", metavar="'NAME: VALUE'", action="append", default=[],
                        help="a response header (repeatable; default :status 200)")
    parser.add_argument("--response-body", metavar="TEXT|@FILE", help="the response body, as text, @file or @- (stdin)")
    parser.add_argument("--property", metavar="PATH=VALUE", action="append", default=[],
                        help="a property the filter can read, e.g. source.address=10.0.0.1:5000 (repeatable)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    parser.add_argument("--budget", type=int, metavar="N", help="fuel (about one per wasm instruction) each "
                        "callback may use (default 1000000000)")
    parser.add_argument("--memory-limit", type=int, metavar="MIB", help="linear memory limit in MiB (default 256)")
    parser.add_argument("--stream-end-order", choices=("envoy", "spec"), default="envoy",
                        help="envoy: log, done, delete (default); spec: done, log, delete")


def parse_header(text: str) -> tuple[str, str]:
    """'name: value' -> (name, value), split at the first colon that is not the first character."""
    colon = text.find(":", 1)
    if colon < 0:
        raise UsageError(f"header {text!r} has no 'name: value' colon", "write headers as 'name: value', "
                         "e.g. -H 'x-user: alice' or -H ':path: /api'")
    name, value = text[:colon].strip(), text[colon + 1:].strip()
    if not name or name == ":":
        raise UsageError(f"header {text!r} has an empty name", "write headers as 'name: value'")
    return name.lower(), value


def parse_property(text: str) -> tuple[str, str]:
    path, equals, value = text.partition("=")
    if not equals or not path.strip():
        raise UsageError(f"property {text!r} is not PATH=VALUE", "e.g. --property source.address=10.0.0.1:5000")
    return _utf8(path.strip(), "property path"), value


def arg_bytes(text: str) -> bytes:
    """The bytes the user typed. Python decodes argv with surrogateescape, so a header value or body
    that is not UTF-8 (a Latin-1 byte, a binary blob from $(...)) reaches the filter unchanged."""
    return os.fsencode(text)


def _load(target: str) -> tuple[bytes, str, Path | None]:
    """(module bytes, default root id, module path) for a file or a stored reference."""
    from wasmbuild import runtime_config
    from wasmbuild.errors import NotFoundError
    from wasmbuild.host.discovery import discover_root_id

    path = Path(target)
    if path.is_file():
        _refuse_what_is_not_wasm(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
        return data, discover_root_id(path), path
    if path.exists():
        raise UsageError(f"{path} is not a file", "give the .wasm file the build produced")
    looks_like_path = target.endswith(".wasm") or ("/" in target and ":" not in target.split("/")[-1])
    entry = None
    if not looks_like_path:
        from wasmbuild.errors import WasmbuildError
        from wasmbuild.store import Store

        try:
            entry = Store().get(target)
        except NotFoundError as error:
            if "damaged" in error.message:
                raise
        except WasmbuildError:
            entry = None
    if entry is None:
        raise NotFoundError(f"{target}: no such file, and no module stored under that reference",
                            "give the path of a .wasm file, or a reference listed by 'wasmbuild list'")
    ids = runtime_config.root_ids(entry.runtime_config)
    return entry.read_module(), ids[0] if ids else "", None


def _refuse_what_is_not_wasm(path: Path) -> None:
    """A file that is not a wasm module, or is cut short, is refused after reading its section
    headers, before it is read whole: `run` on a 2 GB file must not take 4 GB of memory to say no."""
    from wasmbuild.abi import check
    from wasmbuild.errors import FilterFailure

    report = check(path)
    error = report.module.error if report.module is not None else None
    if error is not None and error.code in ("not-wasm", "malformed"):
        where = f" (at byte {error.offset})" if error.offset is not None and error.code == "malformed" else ""
        raise FilterFailure(f"not a valid WebAssembly module: {error.message}{where}",
                            error.hint or "check that the file is the .wasm your build produced")


def run(args: argparse.Namespace) -> int:
    from wasmbuild.errors import FilterFailure, WasmbuildError

    try:
        inputs = _inputs(args)
    except WasmbuildError as error:
        if args.json:  # scripts get their one object whatever went wrong
            reason = (getattr(error, "reason", None) if isinstance(error, FilterFailure)
                      else {2: "usage", 3: "not-found"}.get(error.exit_code, "error"))
            _write_json(json_report(None, [], {}), error, reason)
        raise
    return _run(args, *inputs)


def _inputs(args: argparse.Namespace) -> tuple[Any, ...]:
    from wasmbuild import argfile

    request_headers = [(arg_bytes(k), arg_bytes(v)) for k, v in map(parse_header, args.request_header)] or None
    response_headers = [(arg_bytes(k), arg_bytes(v)) for k, v in map(parse_header, args.response_header)] or None
    props = {path: arg_bytes(value) for path, value in map(parse_property, args.property)}
    plugin_config = argfile.read(args.plugin_config, "--plugin-config")
    vm_config = argfile.read(args.vm_config, "--vm-config")
    request_body = argfile.read(args.request_body, "--request-body")
    response_body = argfile.read(args.response_body, "--response-body")
    if args.budget is not None and args.budget <= 0:
        raise UsageError("--budget must be a positive number of instructions")
    if args.memory_limit is not None and args.memory_limit <= 0:
        raise UsageError("--memory-limit must be a positive number of MiB")
    if args.root_id is not None:
        _utf8(args.root_id, "--root-id")
    module, default_root_id, _ = _load(args.filter)
    return (module, default_root_id, request_headers, response_headers, props, plugin_config, vm_config,
            request_body, response_body)


def _utf8(text: str, what: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"{what} {text.encode('utf-8', 'surrogateescape')!r} is not UTF-8 text",
                         "root ids and property paths are names: write them in UTF-8") from None
    return text


def _run(args: argparse.Namespace, module: bytes, default_root_id: str, request_headers: Any,
         response_headers: Any, props: dict[str, bytes], plugin_config: bytes | None, vm_config: bytes | None,
         request_body: bytes | None, response_body: bytes | None) -> int:
    from wasmbuild.errors import FilterFailure
    from wasmbuild.host.vm import DEFAULT_BUDGET, DEFAULT_MEMORY_LIMIT
    from wasmbuild.testing import load_filter

    filt: Filter | None = None
    stream: HttpStream | None = None
    try:
        filt = load_filter(
            module, plugin_config=plugin_config, vm_config=vm_config,
            root_id=args.root_id if args.root_id is not None else default_root_id, properties=props,
            budget=args.budget or DEFAULT_BUDGET,
            memory_limit=args.memory_limit * 1024 * 1024 if args.memory_limit else DEFAULT_MEMORY_LIMIT,
            stream_end_order=args.stream_end_order)
        stream = filt.http_stream()
        stream.run(request_headers, request_body, response_headers, response_body)
    except FilterFailure as failure:
        logs = getattr(failure, "logs", None)
        _report(args, filt, stream, failure, logs)
        raise
    _report(args, filt, stream, None, None)
    return 0


def _report(args: argparse.Namespace, filt: Filter | None, stream: HttpStream | None,
            failure: Exception | None, logs: Any) -> None:
    from wasmbuild.testing import LogRecord

    records: list[LogRecord] = list(logs) if logs is not None else (filt.logs if filt is not None else [])
    metrics = filt.metrics if filt is not None else {}
    if args.json:
        _write_json(json_report(stream, records, metrics), failure, getattr(failure, "reason", None))
        return
    sys.stdout.write(text_report(stream, records, metrics, filt.notes if filt is not None else []))


def _write_json(obj: dict[str, Any], failure: Exception | None, reason: str | None) -> None:
    if failure is not None:
        obj["error"] = {"message": str(failure).splitlines()[0], "callback": getattr(failure, "callback", None),
                        "reason": reason}
    sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")


def _body_text(body: bytes | None) -> str | None:
    return None if body is None else body.decode("utf-8", "replace")


def json_report(stream: HttpStream | None, logs: list[Any], metrics: dict[str, Any]) -> dict[str, Any]:
    """The --json object (the shape is part of the CLI contract)."""
    def direction(which: str) -> dict[str, Any] | None:
        if stream is None:
            return None
        headers = getattr(stream, f"{which}_headers")
        action = getattr(stream, f"{which}_action")
        if action is None:
            return None
        return {"headers": [list(pair) for pair in headers.items()],
                "body": _body_text(getattr(stream, f"{which}_body")), "action": action}

    local = stream.local_response if stream is not None else None
    return {
        "request": direction("request"),
        "response": None if local is not None else direction("response"),
        "local_response": None if local is None else {
            "status": local.status,
            "headers": [[k.decode("utf-8", "replace"), v.decode("utf-8", "replace")] for k, v in local.headers],
            "body": local.body.decode("utf-8", "replace")},
        "logs": [{"level": r.level, "message": r.message} for r in logs],
        "metrics": metrics,
    }


def text_report(stream: HttpStream | None, logs: list[Any], metrics: dict[str, Any], notes: list[str]) -> str:
    lines: list[str] = []
    if stream is not None:
        local = stream.local_response
        for which in ("request", "response"):
            action = getattr(stream, f"{which}_action")
            if action is None or (which == "response" and local is not None):
                continue
            lines.append(f"{which} ({action})")
            lines += [f"  {name}: {value}" for name, value in getattr(stream, f"{which}_headers").items()]
            body = getattr(stream, f"{which}_body")
            if body is not None:
                lines.append(f"  body ({len(body)} bytes): {_body_text(body)}")
        if local is not None:
            lines.append(f"local response {local.status}" + (f" ({local.details})" if local.details else ""))
            lines += [f"  {k.decode('utf-8', 'replace')}: {v.decode('utf-8', 'replace')}" for k, v in local.headers]
            if local.body:
                lines.append(f"  body ({len(local.body)} bytes): {_body_text(local.body)}")
    lines.append("logs" if logs else "logs: none")
    lines += [f"  [{r.level}] {r.message}" for r in logs]
    if metrics:
        lines.append("metrics")
        lines += [f"  {name} = {value}" for name, value in sorted(metrics.items())]
    if notes:
        lines.append("host notes")
        lines += [f"  {note}" for note in notes]
    return "\n".join(lines) + "\n"
