"""`wasmbuild undeploy istio|gloo`: render (or delete) what `deploy` created.

For Istio the objects are named by --id and --namespace, so deleting needs nothing else: without REF
the command renders just their identities (all `kubectl delete -f` reads); with REF and the same
options as deploy it renders exactly the objects deploy rendered. For Gloo the filter is removed by
name from the live Gateway, which needs the cluster, so --apply is required.
"""

from __future__ import annotations

import argparse
import sys

from wasmbuild.commands.deploy import add_gloo_target, add_istio_arguments, emit

TYPE_CHECKING = False  # not `from typing import ...`: --help stays light (see wasmbuild.cli)
if TYPE_CHECKING:
    from typing import Any


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="platform", metavar="PLATFORM", required=True, parser_class=type(parser))
    istio = sub.add_parser("istio", help="the Istio WasmPlugin or EnvoyFilter deploy rendered",
                           description="Render (or delete) the Istio WasmPlugin or EnvoyFilter named --id.")
    add_istio_arguments(istio, for_undeploy=True)
    gloo = sub.add_parser("gloo", help="remove the filter from a Gloo Gateway (needs --apply)",
                          description="Remove the wasm filter named --id from a live Gloo Gateway.")
    add_gloo_target(gloo)
    gloo.add_argument("--apply", action="store_true", help="edit the live Gateway (kubectl get + replace)")
    gloo.add_argument("--context", metavar="NAME", help="kubeconfig context (default: the current one)")


def _identities(args: argparse.Namespace) -> list[dict[str, Any]]:
    from wasmbuild.deploy import inputs
    from wasmbuild.deploy import istio_envoyfilter as ef
    from wasmbuild.deploy import istio_wasmplugin as wp

    name = inputs.object_name(args.id, "--id")
    namespace = inputs.namespace_name(args.namespace)
    api = wp.API_VERSION if args.kind == "wasmplugin" else ef.API_VERSION
    kind = wp.KIND if args.kind == "wasmplugin" else ef.KIND
    return [{"apiVersion": api, "kind": kind, "metadata": {"name": name, "namespace": namespace}}]


def _gloo(args: argparse.Namespace) -> int:
    from wasmbuild.deploy import gloo, inputs
    from wasmbuild.errors import NotFoundError, UsageError

    name = inputs.object_name(args.id, "--id")
    namespace = inputs.namespace_name(args.namespace)
    gateway = inputs.object_name(args.gateway, "--gateway")
    if not args.apply:
        raise UsageError("removing a filter from a Gloo Gateway edits the live object: add --apply",
                         f"or edit it by hand: kubectl edit {gloo.RESOURCE} {gateway} -n {namespace}")
    updated, removed = gloo.without_filter(gloo.live_gateway(gateway, namespace, args.context), name)
    if not removed:
        raise NotFoundError(f"Gateway {namespace}/{gateway} has no wasm filter named {name}")
    sys.stdout.write(gloo.replace_gateway(updated, args.context))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.platform == "gloo":
        return _gloo(args)
    if args.ref:
        from wasmbuild.commands.deploy import istio_objects

        args.skip_check = True  # deleting what names a broken module must still work
        return emit(istio_objects(args, []), args, verb="delete")
    return emit(_identities(args), args, verb="delete")
