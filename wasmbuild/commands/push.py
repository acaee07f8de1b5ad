"""`wasmbuild push REF`: pack a stored module as an image and push it to the registry REF names."""

from __future__ import annotations

import argparse
import sys

VARIANTS = ("compat", "oci")  # wasmbuild.oci.image.VARIANTS, repeated so --help imports nothing


EXIT_CODES = ("exit codes: 0 done; 2 bad reference or options; 3 not found (a module not in the store, a tag "
              "or repository the registry does not have); 5 a configured credential helper is missing; "
              "6 any other registry failure (refused, authentication, digest mismatch, network)")


def add_registry_options(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXIT_CODES
    parser.add_argument("--plain-http", action="store_true",
                        help="talk plain HTTP to the registry (automatic for localhost and 127.0.0.0/8)")
    parser.add_argument("--insecure", action="store_true",
                        help="use HTTPS without verifying the registry's certificate")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ref", metavar="REF",
                        help="the stored module to push, named REGISTRY/REPOSITORY[:TAG], "
                             "e.g. localhost:5000/filters/add-header:v1")
    parser.add_argument("--variant", choices=VARIANTS, default="compat",
                        help="compat (default): an ordinary image with plugin.wasm in one tar+gzip layer, "
                             "for Istio, docker and any registry; oci: the Wasm artifact format wasme pushed")
    add_registry_options(parser)


def run(args: argparse.Namespace) -> int:
    from wasmbuild import console, refs
    from wasmbuild.errors import UsageError
    from wasmbuild.oci.layout import image_of
    from wasmbuild.oci.push import push_image
    from wasmbuild.oci.registry import Registry
    from wasmbuild.store import Store

    ref = refs.parse(args.ref)
    if ref.registry is None:
        example = f"localhost:5000/{ref.repository}:{ref.tag or 'latest'}"
        raise UsageError(f"{ref} names no registry to push to",
                         f"give it one with 'wasmbuild tag {ref} {example}' and push that")
    store = Store()
    entry = store.get(str(ref))
    console.step(f"pushing {ref} ({args.variant} variant) to {ref.registry}")
    image = image_of(store, entry, args.variant)
    with Registry(ref.registry, plain_http=args.plain_http, insecure=args.insecure) as registry:
        pushed = push_image(registry, ref, image, entry.extra_files())
    console.done(f"pushed {ref}: {pushed.digest} ({pushed.uploaded} blobs sent, {pushed.skipped} already there)")
    sys.stdout.write(f"{ref.name}@{pushed.digest}\n")
    return 0
