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
    return path.strip(), value


def _option_bytes(value: str | None, option: str) -> bytes | None:
    """A TEXT|@FILE|@- option (wasmbuild.argfile), every failure a usage error: `wasmbuild run` exits
    2 for any bad argument, as its help and the README say."""
    from wasmbuild import argfile
    from wasmbuild.errors import WasmbuildError

    try:
        return argfile.read(value, option)
    except WasmbuildError as error:
        raise UsageError(error.message, error.hint or f"give {option} TEXT, @FILE naming a readable file, "
                         "or @- for stdin") from None


def _load(target: str) -> tuple[bytes, str, Path | None]:
    """(module bytes, default root id, module path) for a file or a stored reference."""
    from wasmbuild import runtime_config
    from wasmbuild.host.discovery import discover_root_id

    path = Path(target)
    if path.is_file():
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
            entry = Store().find(target)
        except WasmbuildError:
            entry = None
    if entry is None:
        raise UsageError(f"{target}: no such file, and no module stored under that reference",
                         "give the path of a .wasm file, or a reference listed by 'wasmbuild list'")
    ids = runtime_config.root_ids(entry.runtime_config)
    return entry.read_module(), ids[0] if ids else "", None


def run(args: argparse.Namespace) -> int:
    request_headers = [parse_header(h) for h in args.request_header] or None
    response_headers = [parse_header(h) for h in args.response_header] or None
    props = dict(parse_property(p) for p in args.property)
    plugin_config = _option_bytes(args.plugin_config, "--plugin-config")
    vm_config = _option_bytes(args.vm_config, "--vm-config")
    request_body = _option_bytes(args.request_body, "--request-body")
    response_body = _option_bytes(args.response_body, "--response-body")
    if args.budget is not None and args.budget <= 0:
        raise UsageError("--budget must be a positive number of instructions")
    if args.memory_limit is not None and args.memory_limit <= 0:
        raise UsageError("--memory-limit must be a positive number of MiB")
    module, default_root_id, _ = _load(args.filter)

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
        obj = json_report(stream, records, metrics)
        if failure is not None:
            obj["error"] = {"message": str(failure).splitlines()[0],
                            "callback": getattr(failure, "callback", None),
                            "reason": getattr(failure, "reason", None)}
        sys.stdout.write(json.dumps(obj, indent=2, ensure_ascii=False) + "\n")
        return
    sys.stdout.write(text_report(stream, records, metrics, filt.notes if filt is not None else []))


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
