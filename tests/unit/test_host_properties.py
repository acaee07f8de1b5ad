"""Properties: derived from the stream, configured by the test, set by the filter."""

from __future__ import annotations

from tests.fixtures.host import HELPERS, load

GET = HELPERS + """
(func $show (param $p i32) (param $n i32)
  (local $status i32)
  (local.set $status (call $proxy_get_property (local.get $p) (local.get $n) (i32.const 0) (i32.const 4)))
  (if (i32.eqz (local.get $status))
    (then (call $say_out (i32.const 0) (i32.const 4)))
    (else (call $say_int (local.get $status)))))
"""


def test_derived_request_properties_and_plugin_identity() -> None:
    body = GET + """
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (call $show <<path>>) (call $show <<url_path>>) (call $show <<method>>) (call $show <<host>>)
      (call $show <<header>>) (call $show <<root>>) (call $show <<name>>) (call $show <<missing>>)
      (i32.const 0))
    """
    strings = {"path": b"request\0path", "url_path": b"request\0url_path", "method": b"request\0method",
               "host": b"request\0host", "header": b"request\0headers\0x-id", "root": "plugin_root_id",
               "name": "plugin_name", "missing": b"no\0such"}
    f = load(body, strings=strings, root_id="my_root")
    f.run_http([(":method", "PUT"), (":path", "/a/b?q=1"), (":authority", "svc.local"), ("x-id", "42")])
    assert f.log_messages() == ["/a/b?q=1", "/a/b", "PUT", "svc.local", "42", "my_root", "my_root", "1"]


def test_integer_properties_are_8_byte_little_endian() -> None:
    body = HELPERS + """
    (func (export "proxy_on_response_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_get_property <<code>> (i32.const 0) (i32.const 4)))
      (call $say_int (i32.load (i32.const 4)))
      (call $say_int (i32.load (i32.load (i32.const 0))))
      (drop (call $proxy_get_property <<port>> (i32.const 0) (i32.const 4)))
      (call $say_int (i32.load (i32.load (i32.const 0))))
      (i32.const 0))
    """
    f = load(body, strings={"code": b"response\0code", "port": b"source\0port"},
             properties={"source.port": 4242})
    f.run_http(response_headers=[(":status", "503")])
    assert f.log_messages() == ["8", "503", "4242"]


def test_the_filter_sets_and_reads_back_properties_and_tests_can_set_them() -> None:
    body = GET + """
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (call $show <<mine>>)
      (call $say_int (call $proxy_set_property <<mine>> <<value>>))
      (call $show <<mine>>)
      (call $show <<user>>)
      (i32.const 0))
    """
    f = load(body, strings={"mine": b"wasm\0state", "value": "set-by-filter", "user": b"tenant\0id"},
             properties={"tenant.id": "acme"})
    f.run_http()
    assert f.log_messages() == ["1", "0", "set-by-filter", "acme"]
    stream = f.http_stream()
    stream.set_property("tenant.id", "per-stream")
    stream.send_request_headers()
    # the filter's set_property was stream-scoped: a new stream starts without it
    assert f.log_messages()[-4:] == ["1", "0", "set-by-filter", "per-stream"]


def test_map_valued_properties_use_the_pair_format() -> None:
    body = HELPERS + """
    (func (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
      (drop (call $proxy_get_property <<headers>> (i32.const 0) (i32.const 4)))
      (call $say_int (i32.load (i32.load (i32.const 0))))
      (i32.const 0))
    """
    f = load(body, strings={"headers": b"request\0headers"})
    f.run_http()
    assert f.log_messages() == ["4"]  # the serialised map starts with its pair count
