"""Test a compiled proxy-wasm filter from Python, without Envoy.

``wasmbuild.testing`` runs the real ``.wasm`` under wasmbuild's emulated proxy-wasm host (on
wasmtime): the same call sequence Envoy makes, the host functions of the module's ABI version,
WASI, a manual clock, and scripted answers for HTTP and gRPC calls. Tests assert on what a proxy
would see: the headers as the filter left them, bodies, local responses, logs and metrics.

A first test::

    from wasmbuild.testing import load_filter

    def test_adds_the_configured_header():
        with load_filter("build/filter.wasm", root_id="add_header",
                         plugin_config={"name": "x-team", "value": "edge"}) as f:
            stream = f.http_stream()
            assert stream.send_request_headers() == "continue"
            assert stream.send_response_headers({":status": "200"}) == "continue"
            assert stream.response_headers["x-team"] == "edge"
            stream.finish()
            assert "debug" in {record.level for record in f.logs}

Inside a wasmbuild project the module path and the root id can be left out: they come from
``wasmbuild.toml`` ([build] output, [project] root_id) or the ``runtime-config.json``.

In a ``conftest.py``, ``filter_fixture`` makes a pytest fixture that loads the filter for each
test and shuts it down afterwards::

    from wasmbuild.testing import filter_fixture

    add_header = filter_fixture(plugin_config={"name": "x-team", "value": "edge"})

    # test_filter.py
    def test_hello(add_header):
        stream = add_header.run_http()
        assert stream.response_headers["hello"] == "world!"

A filter that traps, loops past its budget, exhausts its memory or hands a host call a bad
pointer raises :class:`CallbackFailure` (a ``wasmbuild.errors.FilterFailure``) naming the
callback, with the wasm backtrace.
"""

from __future__ import annotations

from wasmbuild.errors import FilterFailure
from wasmbuild.host.discovery import project_module
from wasmbuild.host.state import (
    GrpcCall,
    GrpcResponse,
    HttpCall,
    HttpCallResponse,
    LocalResponse,
    LogRecord,
    ManualClock,
    SharedState,
)
from wasmbuild.host.vm import CallbackFailure
from wasmbuild.testing.filter import ConfigurationRejected, Filter, load_filter
from wasmbuild.testing.fixtures import filter_factory, filter_fixture
from wasmbuild.testing.headers import (
    CONTINUE,
    DEFAULT_REQUEST_HEADERS,
    DEFAULT_RESPONSE_HEADERS,
    PAUSE,
    Action,
    Headers,
)
from wasmbuild.testing.stream import HttpStream

__all__ = [
    "CONTINUE",
    "DEFAULT_REQUEST_HEADERS",
    "DEFAULT_RESPONSE_HEADERS",
    "PAUSE",
    "Action",
    "CallbackFailure",
    "ConfigurationRejected",
    "Filter",
    "FilterFailure",
    "GrpcCall",
    "GrpcResponse",
    "Headers",
    "HttpCall",
    "HttpCallResponse",
    "HttpStream",
    "LocalResponse",
    "LogRecord",
    "ManualClock",
    "SharedState",
    "filter_factory",
    "filter_fixture",
    "load_filter",
    "project_module",
]
