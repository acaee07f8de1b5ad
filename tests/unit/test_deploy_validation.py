"""The validators behind deploy (CRD schemas, Envoy API tables), the Gloo merge and the output helpers.

Each test breaks a known-good rendering in one way a user or a renderer bug could, and checks that
the validator names the exact place.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

from wasmbuild.deploy import (
    crd_validation,
    envoy_validation,
    gloo,
    inputs,
    local_code,
    plugin_config,
    remote_code,
    render_bootstrap,
    render_envoyfilter,
    render_wasmplugin,
    validation,
)
from wasmbuild.deploy.output import to_json, to_yaml, write_atomic
from wasmbuild.errors import ConfigError, DeployError, UsageError


def plugin(**extra: Any) -> dict[str, Any]:
    return plugin_config(name="add-header", root_id="add_header", vm_id="add-header",
                         code=local_code("/etc/envoy/f.wasm"), configuration='{"a":1}', **extra)


def wasmplugin() -> dict[str, Any]:
    return render_wasmplugin(name="add-header", namespace="default", url="oci://localhost:5000/f/a:v1",
                             plugin_name="add_header", selector={"app": "web"})


def bootstrap() -> dict[str, Any]:
    return render_bootstrap(plugin=plugin(), upstream=("example.com", 443), upstream_tls=True)


def envoy_errors(value: Any, message: str = envoy_validation.BOOTSTRAP) -> list[str]:
    return [str(p) for p in envoy_validation.validate(value, message) if not p.deprecated]


def http_filter_config(doc: dict[str, Any]) -> dict[str, Any]:
    manager = doc["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    config: dict[str, Any] = manager["http_filters"][0]["typed_config"]["config"]
    return config


# -- Istio CRDs -----------------------------------------------------------------------------------
def test_every_cel_rule_of_the_shipped_crds_is_translated() -> None:
    rules: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            rules.update(v["rule"] for v in node.get("x-kubernetes-validations", []))
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    for crd in crd_validation.crds().values():
        walk(crd["openAPIV3Schema"])
    assert rules and rules <= set(crd_validation.CEL_RULES), rules - set(crd_validation.CEL_RULES)


def test_good_objects_pass() -> None:
    assert crd_validation.validate(wasmplugin()) == []
    assert crd_validation.validate(render_envoyfilter(name="a", namespace="b", plugin=plugin())) == []


@pytest.mark.parametrize("mutate, expected", [
    (lambda o: o["spec"].update(bogus=1), "spec: Additional properties are not allowed ('bogus'"),
    (lambda o: o["spec"].update(phase="LATE"), "spec.phase: 'LATE' is not one of"),
    (lambda o: o["spec"].update(priority=2**31), "spec.priority: 2147483648 is greater than the maximum"),
    (lambda o: o["spec"].update(sha256="ABC"), "spec.sha256: 'ABC' does not match"),
    (lambda o: o["spec"].pop("url"), "spec: 'url' is a required property"),
    (lambda o: o["spec"].update(url="ftp://host/x"), "spec.url: url must have schema one of"),
    (lambda o: o["spec"]["selector"]["matchLabels"].update(app="we*b"), "wildcard not allowed in label value"),
    (lambda o: o["spec"]["selector"]["matchLabels"].update({"*": "x"}), "wildcard not allowed in label key"),
    (lambda o: o["spec"].update(targetRefs=[{"kind": "Gateway", "name": "gw"}]), "only one of targetRefs or selector"),
    (lambda o: o["spec"].update(vmConfig={"env": [{"name": "A", "valueFrom": "HOST", "value": "x"}]}),
     "value may only be set when valueFrom is INLINE"),
    (lambda o: o["spec"].update(vmConfig={"env": [{"name": "A"}, {"name": "A"}]}), "duplicate entry"),
    (lambda o: o["metadata"].update(name="Not_Valid"), "metadata.name: 'Not_Valid' does not match"),
    (lambda o: o["metadata"].update(namespace="a" * 64), "metadata.namespace"),
    (lambda o: o.update(kind="WasmPlugins"), "no CRD schema for WasmPlugins"),
])
def test_wasmplugin_problems_are_named(mutate: Any, expected: str) -> None:
    obj = wasmplugin()
    mutate(obj)
    found = crd_validation.validate(obj)
    assert any(expected in p for p in found), found


def test_priority_may_be_null() -> None:
    obj = wasmplugin()
    obj["spec"]["priority"] = None
    assert crd_validation.validate(obj) == []


def test_envoyfilter_patch_value_is_checked_against_envoy() -> None:
    """The CRD lets anything through in patch.value; the Envoy tables do not."""
    obj = render_envoyfilter(name="a", namespace="b", plugin=plugin())
    assert validation.problems(obj) == []
    config = obj["spec"]["configPatches"][0]["patch"]["value"]["typed_config"]["value"]["config"]
    config["vm_config"]["runtme"] = "envoy.wasm.runtime.v8"
    assert crd_validation.validate(obj) == []
    found = validation.problems(obj)
    assert len(found) == 1
    assert "spec.configPatches[0].patch.value.typed_config.value.config.vm_config.runtme: unknown field" in found[0]
    assert "did you mean runtime?" in found[0]


def test_envoyfilter_context_and_waypoint_rule() -> None:
    obj = render_envoyfilter(name="a", namespace="b", plugin=plugin(), context="SIDECAR_OUTBOUND")
    obj["spec"]["configPatches"][0]["match"]["context"] = "OUTSIDE"
    assert any("context" in p for p in crd_validation.validate(obj))
    obj["spec"]["configPatches"][0]["match"]["context"] = "GATEWAY"
    obj["spec"]["configPatches"][0]["match"]["waypoint"] = {"portNumber": 80}
    assert any("only support waypointMatch" in p for p in crd_validation.validate(obj))


# -- Envoy API tables -----------------------------------------------------------------------------
def test_tables_come_from_envoys_descriptors() -> None:
    table = envoy_validation.tables()
    assert table["source"].startswith("xds-protos ")
    wasm = table["messages"]["envoy.extensions.wasm.v3.VmConfig"]["fields"]
    assert {"vm_id", "runtime", "code", "configuration", "allow_precompiled"} <= set(wasm)
    assert table["messages"]["envoy.config.core.v3.HttpUri"]["required_oneofs"] == ["http_upstream_type"]


def test_rendered_bootstraps_pass() -> None:
    for doc in (bootstrap(), render_bootstrap(plugin=plugin()),
                render_bootstrap(plugin=plugin(fail_open=True), upstream=("10.0.0.1", 80))):
        assert envoy_errors(doc) == []
        assert validation.problems(doc) == []


def test_fail_open_is_flagged_deprecated_but_allowed() -> None:
    doc = render_bootstrap(plugin=plugin(fail_open=True))
    found = envoy_validation.validate(doc)
    assert [p.deprecated for p in found] == [True]
    assert found[0].path.endswith("config.fail_open")
    assert validation.problems(doc) == []


def test_camel_case_spellings_are_envoys_too() -> None:
    config = {"name": "a", "rootId": "r", "vmConfig": {"vmId": "v", "runtime": "envoy.wasm.runtime.v8",
                                                        "code": {"local": {"filename": "/f.wasm"}}}}
    assert envoy_errors(config, "envoy.extensions.wasm.v3.PluginConfig") == []
    config["root_id"] = "again"
    assert any("given twice" in p for p in envoy_errors(config, "envoy.extensions.wasm.v3.PluginConfig"))


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["admin"]["address"]["socket_address"].update(port_value="9901"),
     "admin.address.socket_address.port_value: expected an integer"),
    (lambda d: d["admin"]["address"]["socket_address"].update(port_value=70000 * 70000 * 70000),
     "out of range for uint32"),
    (lambda d: d["static_resources"]["clusters"][0].update(connect_timeout="5"), "not a duration"),
    (lambda d: d["static_resources"]["clusters"][0].update(type="DNS"), "'DNS' is not one of STATIC"),
    (lambda d: d["static_resources"]["clusters"][0].update(name=""), "clusters[0].name: must not be empty"),
    (lambda d: d["static_resources"].update(listener=[]), "unknown field of envoy.config.bootstrap.v3."
                                                          "Bootstrap.StaticResources (did you mean listeners?)"),
    (lambda d: d.update(node={"id": "x"}), "node: wasmbuild has no field table for envoy.config.core.v3.Node"),
    (lambda d: http_filter_config(d).update(configuration={"@type": "type.googleapis.com/google.protobuf."
                                                           "StringValue", "value": 1}),
     "configuration.value: expected a string"),
    (lambda d: http_filter_config(d).update(configuration={"@type": "type.googleapis.com/google.protobuf."
                                                           "StringValue", "valeu": "x"}), "takes only \"value\""),
    (lambda d: http_filter_config(d).update(configuration={"value": "x"}), "expected an object with an \"@type\""),
    (lambda d: http_filter_config(d).update(configuration={"@type": "google.protobuf.StringValue"}),
     "does not start with type.googleapis.com/"),
    (lambda d: http_filter_config(d)["vm_config"].update(code={}), "one of local, remote is required"),
    (lambda d: http_filter_config(d)["vm_config"].update(code={"local": {"filename": "/a", "inline_string": "b"}}),
     "only one of filename, inline_string may be set"),
    (lambda d: http_filter_config(d)["vm_config"].update(
        code=remote_code("https://h/f.wasm", "abc", "upstream", timeout="ten seconds")), "not a duration"),
    (lambda d: http_filter_config(d)["vm_config"]["code"].update(
        remote={"http_uri": {"uri": "https://h/f.wasm", "cluster": "upstream"}, "sha256": "abc"}),
     "only one of local, remote may be set"),
    (lambda d: d["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"].update(
        {"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnection"}),
     "unknown or unsupported type"),
    (lambda d: d["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"].pop(
        "route_config"), "one of rds, route_config, scoped_routes"),
    (lambda d: d["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"][
        "route_config"]["virtual_hosts"][0]["routes"][0].update(direct_response={"status": 200}),
     "only one of route, direct_response may be set"),
    (lambda d: d["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"][
        "route_config"]["virtual_hosts"][0].update(domains=[]), "domains: needs at least 1 item"),
])
def test_bootstrap_problems_are_named(mutate: Any, expected: str) -> None:
    doc = bootstrap()
    mutate(doc)
    found = envoy_errors(doc)
    assert any(expected in p for p in found), found


def test_remote_http_uri_needs_its_fields() -> None:
    doc = bootstrap()
    http_filter_config(doc)["vm_config"]["code"] = {"remote": {"http_uri": {"uri": "https://h/f.wasm"}}}
    found = envoy_errors(doc)
    assert any("http_uri.timeout: required by envoy.config.core.v3.HttpUri" in p for p in found), found
    assert any("one of cluster is required" in p for p in found), found


def test_typed_struct_contents_are_checked_as_the_named_message() -> None:
    value = render_envoyfilter(name="a", namespace="b", plugin=plugin())["spec"]["configPatches"][0]["patch"]["value"]
    assert envoy_errors(value, envoy_validation.HTTP_FILTER) == []
    value["typed_config"]["value"]["config"]["rot_id"] = "x"
    assert any("value.config.rot_id: unknown field" in p for p in envoy_errors(value, envoy_validation.HTTP_FILTER))


def test_bootstrap_cluster_references() -> None:
    doc = render_bootstrap(plugin=plugin(), upstream=("127.0.0.1", 8000))
    doc["static_resources"]["clusters"][0]["name"] = "elsewhere"
    doc["static_resources"]["clusters"][0]["load_assignment"]["cluster_name"] = "elsewhere"
    assert validation.bootstrap_references(doc) == [
        "cluster 'upstream' is used but not defined in static_resources.clusters"]
    with pytest.raises(DeployError, match="Envoy bootstrap is invalid: cluster 'upstream'"):
        validation.check([doc])


# -- Gloo -----------------------------------------------------------------------------------------
def live_gateway() -> dict[str, Any]:
    return {"apiVersion": "gateway.solo.io/v1", "kind": "Gateway",
            "metadata": {"name": "gateway-proxy", "namespace": "gloo-system", "resourceVersion": "42"},
            "spec": {"bindPort": 8080, "httpGateway": {"options": {"wasm": {"filters": [
                {"name": "zeta", "image": "r/z:1", "vmType": "V8"},
                {"name": "add-header", "image": "r/old:1", "vmType": "V8"}]}}}}}


def test_gloo_deploy_replaces_by_name_keeps_others_and_sorts() -> None:
    entry = gloo.wasm_filter(name="add-header", image="r/new:2", root_id="add_header", configuration="{}")
    updated = gloo.with_filter(live_gateway(), entry)
    filters = updated["spec"]["httpGateway"]["options"]["wasm"]["filters"]
    assert [f["name"] for f in filters] == ["add-header", "zeta"]
    assert filters[0]["image"] == "r/new:2"
    assert updated["metadata"]["resourceVersion"] == "42"  # kubectl replace keeps optimistic concurrency
    assert updated["spec"]["bindPort"] == 8080
    assert gloo.with_filter(updated, entry) == updated  # idempotent


def test_gloo_deploy_creates_the_options_path() -> None:
    gateway = live_gateway()
    del gateway["spec"]["httpGateway"]["options"]
    entry = gloo.wasm_filter(name="a", image="r/a:1", root_id="")
    filters = gloo.with_filter(gateway, entry)["spec"]["httpGateway"]["options"]["wasm"]["filters"]
    assert filters == [{"name": "a", "image": "r/a:1", "vmType": "V8"}]


def test_gloo_undeploy() -> None:
    updated, removed = gloo.without_filter(live_gateway(), "add-header")
    assert removed
    assert [f["name"] for f in updated["spec"]["httpGateway"]["options"]["wasm"]["filters"]] == ["zeta"]
    assert gloo.without_filter(updated, "add-header")[1] is False


def test_gloo_gateway_without_http_gateway() -> None:
    gateway = live_gateway()
    gateway["spec"] = {"tcpGateway": {}}
    with pytest.raises(DeployError, match=r"has no spec\.httpGateway"):
        gloo.with_filter(gateway, gloo.wasm_filter(name="a", image="r/a:1", root_id="r"))


def test_gloo_filter_schema() -> None:
    patch = gloo.render_gateway_patch(gateway="g", namespace="n", filters=[
        gloo.wasm_filter(name="a", image="r/a:1", root_id="r")])
    assert validation.problems(patch) == []
    patch["spec"]["httpGateway"]["options"]["wasm"]["filters"][0]["vmType"] = "V9"
    assert any("vmType" in p for p in validation.problems(patch))


# -- inputs and output ----------------------------------------------------------------------------
def test_selector_parsing() -> None:
    assert inputs.parse_selector(["app=web, version=v1", "example.com/tier=front"]) == {
        "app": "web", "version": "v1", "example.com/tier": "front"}
    assert inputs.parse_selector(["empty="]) == {"empty": ""}
    assert inputs.parse_selector(None) == {}
    for bad in ("=x", "a==b", "a=b c", "a" * 64 + "=x", "x=" + "v" * 64, "bad_prefix_/a=b"):
        with pytest.raises(UsageError):
            inputs.parse_selector([bad])


def test_plugin_config_is_canonical_json() -> None:
    config = inputs.load_plugin_config('{ "name" : "ä",\n "n": [1, 2] }')
    assert config is not None and config.text == '{"name":"ä","n":[1,2]}'
    assert inputs.load_plugin_config(None) is None
    with pytest.raises(ConfigError, match="line 2 column 1"):
        inputs.load_plugin_config('{"a":\n}')
    with pytest.raises(ConfigError, match="not null"):
        inputs.load_plugin_config("null").as_object()  # type: ignore[union-attr]


def test_host_port_forms() -> None:
    assert inputs.host_port("[2001:db8::1]:443", "--upstream") == ("2001:db8::1", 443)
    assert inputs.host_port("httpbin.org:80", "--upstream") == ("httpbin.org", 80)
    for bad in ("[::1]", "[nope]:80", "under_score.example:80", ":80", "host:0"):
        with pytest.raises(UsageError):
            inputs.host_port(bad, "--upstream")


def test_yaml_output_reads_back_identically() -> None:
    objects = [wasmplugin(), bootstrap(), {"strings": ["on", "yes", "1.0", "*", "a: b", "x\ny\n", "", "~"]}]
    assert list(yaml.safe_load_all(to_yaml(objects))) == objects
    assert "&id" not in to_yaml([{"a": objects[0], "b": objects[0]}])  # no anchors/aliases


def test_json_output_is_a_list_for_several_objects() -> None:
    one, two = wasmplugin(), copy.deepcopy(wasmplugin())
    assert json.loads(to_json([one])) == one
    assert json.loads(to_json([one, two])) == {"apiVersion": "v1", "kind": "List", "items": [one, two]}


def test_write_atomic_replaces_and_leaves_nothing_behind(tmp_path: Any) -> None:
    target = tmp_path / "out.yaml"
    target.write_text("old")
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.yaml"]
    with pytest.raises(Exception, match="missing"):
        write_atomic(tmp_path / "missing" / "x.yaml", "x")
