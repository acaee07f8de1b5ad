"""A complete static Envoy bootstrap to try a filter by hand (`envoy -c envoy.yaml`).

One HTTP listener whose connection manager runs the Wasm filter before the router, and either a
fixed local reply (no upstream needed: the filter still sees the response headers) or one upstream
cluster. The admin interface listens on localhost only.
"""

from __future__ import annotations

from typing import Any

from wasmbuild.deploy.inputs import is_ip
from wasmbuild.deploy.wasm_filter import http_filter

HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
TLS_TYPE = "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"
UPSTREAM_CLUSTER = "upstream"
LOCAL_REPLY = "hello from envoy\n"


def _socket_address(address: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": address, "port_value": port}}


def _upstream_cluster(host: str, port: int, tls: bool) -> dict[str, Any]:
    cluster: dict[str, Any] = {
        "name": UPSTREAM_CLUSTER,
        "type": "STATIC" if is_ip(host) else "LOGICAL_DNS",
        "connect_timeout": "5s",
    }
    if not is_ip(host):
        # containers often have no IPv6 route; a v6 answer first would make every request fail
        cluster["dns_lookup_family"] = "V4_ONLY"
    cluster["load_assignment"] = {
        "cluster_name": UPSTREAM_CLUSTER,
        "endpoints": [{"lb_endpoints": [{"endpoint": {"address": _socket_address(host, port)}}]}],
    }
    if tls:
        context: dict[str, Any] = {"@type": TLS_TYPE}
        if not is_ip(host):
            context["sni"] = host
        cluster["transport_socket"] = {"name": "envoy.transport_sockets.tls", "typed_config": context}
    return cluster


def render_bootstrap(*, plugin: dict[str, Any], listen_address: str = "0.0.0.0", listen_port: int = 8080,
                     upstream: tuple[str, int] | None = None, upstream_tls: bool = False,
                     admin_port: int = 9901) -> dict[str, Any]:
    """An envoy.config.bootstrap.v3.Bootstrap running the filter described by `plugin` (a PluginConfig)."""
    route: dict[str, Any] = {"match": {"prefix": "/"}}
    if upstream is None:
        route["direct_response"] = {"status": 200, "body": {"inline_string": LOCAL_REPLY}}
    else:
        action: dict[str, Any] = {"cluster": UPSTREAM_CLUSTER}
        if not is_ip(upstream[0]):
            action["auto_host_rewrite"] = True
        route["route"] = action
    manager = {
        "@type": HCM_TYPE,
        "stat_prefix": "ingress_http",
        "route_config": {
            "name": "local_route",
            "virtual_hosts": [{"name": "local", "domains": ["*"], "routes": [route]}],
        },
        "http_filters": [
            http_filter(plugin),
            {"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER_TYPE}},
        ],
    }
    static: dict[str, Any] = {
        "listeners": [{
            "name": "http",
            "address": _socket_address(listen_address, listen_port),
            "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                             "typed_config": manager}]}],
        }],
    }
    if upstream is not None:
        static["clusters"] = [_upstream_cluster(upstream[0], upstream[1], upstream_tls)]
    return {
        "admin": {"address": _socket_address("127.0.0.1", admin_port)},
        "static_resources": static,
    }
