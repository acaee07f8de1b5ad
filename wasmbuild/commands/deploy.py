"""`wasmbuild deploy istio|envoy|gloo`: render (and optionally apply) what runs a stored filter.

Every command renders, validates, then prints, writes (atomically) or applies; an invalid object never
reaches the output. Advice that is not part of the manifest (a module path to mount, an unpinned
image) goes to stderr, so stdout can be piped straight into kubectl.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

TYPE_CHECKING = False  # not `from typing import ...`: --help stays light (see wasmbuild.cli)
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from typing import Any

PHASES = ("AUTHN", "AUTHZ", "STATS", "UNSPECIFIED_PHASE")
KINDS = ("wasmplugin", "envoyfilter")
PATCH_CONTEXTS = ("inbound", "outbound", "gateway", "any")
WASMPLUGIN_ONLY = ("pull_policy", "pull_secret", "url", "sha256")
ENVOYFILTER_ONLY = ("patch_context", "code_uri", "code_cluster", "code_path", "typed_config")


# -- arguments ------------------------------------------------------------------------------------
def _common_output(p: argparse.ArgumentParser, apply: str | None) -> None:
    p.add_argument("--output", metavar="FILE", type=Path,
                   help="write the manifest to FILE (atomically) instead of printing it")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml", help="output format (default: yaml)")
    if apply:
        p.add_argument("--apply", action="store_true", help=apply)
        p.add_argument("--context", metavar="NAME", help="kubeconfig context for --apply (default: the current one)")


def _config_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="TEXT|@FILE",
                   help="plugin configuration as JSON: inline, @FILE, or @- for stdin")
    p.add_argument("--skip-check", action="store_true",
                   help="render even if the module fails the proxy-wasm ABI check")
    p.add_argument("--root-id", metavar="ID",
                   help="root id of the plugin (default: the first rootIds entry of the module's runtime config)")


def add_istio_arguments(p: argparse.ArgumentParser, for_undeploy: bool = False) -> None:
    if for_undeploy:
        p.add_argument("ref", metavar="REF", nargs="?",
                       help="the deployed reference: renders the full objects (optional; --id suffices to delete)")
    else:
        p.add_argument("ref", metavar="REF", help="reference of the module in the local store")
    p.add_argument("--id", required=True, metavar="NAME", help="name of the WasmPlugin/EnvoyFilter (a Kubernetes name)")
    p.add_argument("--namespace", "-n", default="default", metavar="NS", help="namespace (default: default)")
    p.add_argument("--kind", choices=KINDS, default="wasmplugin",
                   help="wasmplugin (default; Istio >= 1.12 pulls the image) or envoyfilter (wasme's way)")
    p.add_argument("--selector", "--labels", "-l", action="append", metavar="KEY=VALUE[,...]",
                   help="workload labels to select (repeatable; default: every workload in the namespace)")
    _config_flags(p)
    p.add_argument("--phase", choices=PHASES, help="where in the filter chain (default: just before the router)")
    p.add_argument("--priority", type=int, metavar="N", help="order within the phase (higher runs first)")
    p.add_argument("--fail-open", action="store_true", help="let traffic through when the plugin fails")
    group = p.add_argument_group("WasmPlugin options")
    group.add_argument("--pull-policy", choices=("IfNotPresent", "Always"), help="image pull policy")
    group.add_argument("--pull-secret", metavar="SECRET", help="docker-registry Secret for a private registry")
    group.add_argument("--url", metavar="URL",
                       help="fetch the module from URL (http(s)://, file://) instead of oci://REF")
    group.add_argument("--sha256", metavar="HEX",
                       help="checksum Istio verifies: the image manifest digest for oci://, the module's for http(s)")
    group = p.add_argument_group("EnvoyFilter options")
    group.add_argument("--patch-context", choices=PATCH_CONTEXTS,
                       help="inbound (default), outbound, gateway (ingress/egress gateways) or any")
    group.add_argument("--code-uri", metavar="URL", help="Envoy downloads the module from URL (http or https)")
    group.add_argument("--code-cluster", metavar="NAME",
                       help="cluster for --code-uri (default: Istio's outbound|PORT||HOST)")
    group.add_argument("--code-path", metavar="PATH",
                       help="module file inside the istio-proxy container (default: wasme's cache path)")
    group.add_argument("--typed-config", choices=("struct", "direct"), default=None,
                       help="wrap the filter in a udpa TypedStruct as wasme did (struct, default) or not (direct)")
    _common_output(p, "delete the objects with 'kubectl delete -f -'" if for_undeploy
                   else "apply the objects with 'kubectl apply -f -' and show what kubectl said")
    if for_undeploy:
        p.add_argument("--ignore-not-found", action="store_true", help="with --apply: no error if already gone")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="platform", metavar="PLATFORM", required=True, parser_class=type(parser))
    istio = sub.add_parser("istio", help="an Istio WasmPlugin (default) or EnvoyFilter",
                           description="Render an Istio WasmPlugin or EnvoyFilter for a stored module.")
    add_istio_arguments(istio)

    envoy = sub.add_parser("envoy", help="a complete static Envoy bootstrap to run the filter by hand",
                           description="Render a static Envoy bootstrap whose HTTP listener runs the filter.")
    envoy.add_argument("target", metavar="REF|FILE", help="stored reference, or a .wasm file")
    envoy.add_argument("--id", metavar="NAME", help="filter name and VM id (default: the module's name)")
    _config_flags(envoy)
    envoy.add_argument("--listen", default="8080", metavar="[ADDRESS:]PORT",
                       help="where the HTTP listener listens (default: 0.0.0.0:8080)")
    envoy.add_argument("--upstream", metavar="HOST:PORT",
                       help="proxy to HOST:PORT (default: answer locally, no upstream needed)")
    envoy.add_argument("--upstream-tls", action="store_true", help="speak TLS to the upstream")
    envoy.add_argument("--admin-port", default="9901", metavar="PORT", help="admin port on 127.0.0.1 (default: 9901)")
    envoy.add_argument("--code-path", metavar="PATH",
                       help="the module's path as Envoy sees it, e.g. inside a container (default: its path here)")
    envoy.add_argument("--fail-open", action="store_true", help="let traffic through when the plugin fails")
    _common_output(envoy, None)

    gloo = sub.add_parser("gloo", help="Gloo Gateway wasm filter settings (a Gateway patch)",
                          description="Render (or apply) the wasm filter entry of a Gloo Gateway, as wasme did.")
    gloo.add_argument("ref", metavar="REF", help="reference of the module (Gloo pulls the image itself)")
    add_gloo_target(gloo)
    _config_flags(gloo)
    _common_output(gloo, "update the live Gateway (kubectl get + replace), keeping its other filters")


def add_gloo_target(p: argparse.ArgumentParser) -> None:
    p.add_argument("--id", required=True, metavar="NAME", help="filter name, unique in the gateway")
    p.add_argument("--namespace", "-n", default="gloo-system", metavar="NS",
                   help="namespace of the Gateway (default: gloo-system)")
    p.add_argument("--gateway", default="gateway-proxy", metavar="NAME",
                   help="name of the gateway.solo.io Gateway (default: gateway-proxy)")


# -- shared steps ---------------------------------------------------------------------------------
def emit(objects: Sequence[Mapping[str, Any]], args: argparse.Namespace, verb: str = "apply",
         notes: Sequence[str] = (), next_steps: Sequence[str] = ()) -> int:
    """Validate, write/print and (with --apply) hand the objects to kubectl, then give the warnings in
    `notes` and the suggestions in `next_steps` (`next: ...`, as `wasmbuild new` ends).

    The advice comes last so that a failing command prints nothing but its error."""
    from wasmbuild import console
    from wasmbuild.deploy import kubectl, output, validation

    validation.check(objects)
    text = output.render(objects, args.format)
    if args.output is not None:
        output.write_atomic(args.output, text)
        console.done(f"wrote {args.output}")
    if getattr(args, "apply", False):
        manifest = output.to_yaml(objects)
        if verb == "delete":
            said = kubectl.delete(manifest, args.context, getattr(args, "ignore_not_found", False))
        else:
            said = kubectl.apply(manifest, args.context)
        sys.stdout.write(said)
    elif args.output is None:
        sys.stdout.write(text)
    for message in notes:
        console.warn(message)
    for message in next_steps:
        console.info(f"next: {message}")
    return 0


def _given(args: argparse.Namespace, names: Sequence[str]) -> list[str]:
    return ["--" + n.replace("_", "-") for n in names if getattr(args, n, None) not in (None, False)]


def istio_objects(args: argparse.Namespace, notes: list[str]) -> list[dict[str, Any]]:
    """The WasmPlugin or EnvoyFilter that `deploy istio` (and `undeploy istio REF`) renders; advice for
    the user goes to `notes`."""
    from wasmbuild.deploy import inputs
    from wasmbuild.deploy.istio import render_istio
    from wasmbuild.errors import UsageError

    wrong = _given(args, ENVOYFILTER_ONLY if args.kind == "wasmplugin" else WASMPLUGIN_ONLY)
    if wrong:
        raise UsageError(f"{', '.join(wrong)} do(es) not apply to --kind {args.kind}",
                         "see 'wasmbuild deploy istio --help' for which options go with which kind")
    inputs.object_name(args.id, "--id")
    inputs.namespace_name(args.namespace)
    selector = inputs.parse_selector(args.selector)
    config = inputs.load_plugin_config(args.config)
    obj = render_istio(
        args.ref, name=args.id, kind=args.kind, namespace=args.namespace, selector=selector, config=config,
        root_id=args.root_id, phase=args.phase, priority=args.priority, fail_open=args.fail_open,
        pull_policy=args.pull_policy, pull_secret=args.pull_secret, url=args.url, sha256=args.sha256,
        patch_context=args.patch_context, code_uri=args.code_uri, code_cluster=args.code_cluster,
        code_path=args.code_path, typed_struct=args.typed_config != "direct", notes=notes, validate=False,
        check_module=not args.skip_check)
    return [obj]


def _envoy(args: argparse.Namespace, notes: list[str], next_steps: list[str]) -> list[dict[str, Any]]:
    from wasmbuild.deploy import envoy_bootstrap, inputs, source
    from wasmbuild.deploy.wasm_filter import local_code, plugin_config
    from wasmbuild.errors import UsageError

    listen = inputs.host_port(args.listen, "--listen", default_host="0.0.0.0")
    upstream = inputs.host_port(args.upstream, "--upstream") if args.upstream else None
    if args.upstream_tls and upstream is None:
        raise UsageError("--upstream-tls needs --upstream HOST:PORT")
    admin_port = inputs.port(args.admin_port, "--admin-port")
    config = inputs.load_plugin_config(args.config)
    module = source.resolve(args.target, allow_file=True)
    if not args.skip_check:
        source.check_loadable(module)
    filter_id = args.id if args.id is not None else module.name
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,252}", filter_id):
        raise UsageError(f"--id {filter_id!r} is not a usable filter name", "use letters, digits, '.', '_' and '-'")
    root_id = source.root_id(module, args.root_id)
    code_path = args.code_path or str(module.path)
    plugin = plugin_config(name=filter_id, root_id=root_id, vm_id=filter_id, code=local_code(code_path),
                           configuration=config.text if config else None, fail_open=args.fail_open)
    bootstrap = envoy_bootstrap.render_bootstrap(plugin=plugin, listen_address=listen[0], listen_port=listen[1],
                                                 upstream=upstream, upstream_tls=args.upstream_tls,
                                                 admin_port=admin_port)
    if args.output is not None and not args.code_path:
        next_steps.append(f"envoy -c {args.output}   (in a container, mount {module.path.parent} at the same "
                          "path, or pass --code-path)")
    return [bootstrap]


def _gloo(args: argparse.Namespace) -> int:
    from wasmbuild.deploy import gloo, inputs, source, validation
    from wasmbuild.errors import DeployError

    name = inputs.object_name(args.id, "--id")
    namespace = inputs.namespace_name(args.namespace)
    gateway = inputs.object_name(args.gateway, "--gateway")
    config = inputs.load_plugin_config(args.config)
    module = source.from_store(args.ref)
    if not args.skip_check:
        source.check_loadable(module)
    entry = gloo.wasm_filter(name=name, image=str(module.ref), root_id=source.root_id(module, args.root_id),
                             configuration=config.text if config else None)
    patch = gloo.render_gateway_patch(gateway=gateway, namespace=namespace, filters=[entry])
    if not args.apply:
        return emit([patch], args, next_steps=[
            f"kubectl patch {gloo.RESOURCE} {gateway} -n {namespace} --type merge --patch-file FILE "
            "(this merge patch replaces the gateway's filter list; --apply keeps its other filters)"])
    validation.check([patch])
    updated = gloo.with_filter(gloo.live_gateway(gateway, namespace, args.context), entry)
    problems = validation.problems(gloo.render_gateway_patch(
        gateway=gateway, namespace=namespace,
        filters=updated["spec"]["httpGateway"]["options"]["wasm"]["filters"]))
    if problems:
        raise DeployError(f"Gateway {gateway} would get an invalid wasm filter list: {problems[0]}")
    if args.output is not None:
        from wasmbuild.deploy import output

        output.write_atomic(args.output, output.render([updated], args.format))
    sys.stdout.write(gloo.replace_gateway(updated, args.context))
    return 0


def run(args: argparse.Namespace) -> int:
    notes: list[str] = []
    if args.platform == "istio":
        return emit(istio_objects(args, notes), args, notes=notes)
    if args.platform == "envoy":
        next_steps: list[str] = []
        return emit(_envoy(args, notes, next_steps), args, notes=notes, next_steps=next_steps)
    return _gloo(args)
