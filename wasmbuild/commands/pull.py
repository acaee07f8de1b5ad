"""`wasmbuild pull REF`: fetch an image, verify all of it, and store its module under REF."""

from __future__ import annotations

import argparse
import sys

from wasmbuild.commands.push import add_registry_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ref", metavar="REF",
                        help="REGISTRY/REPOSITORY[:TAG|@DIGEST], e.g. localhost:5000/filters/add-header:v1")
    add_registry_options(parser)


def run(args: argparse.Namespace) -> int:
    from wasmbuild import console, refs
    from wasmbuild.errors import UsageError
    from wasmbuild.oci.pull import pull
    from wasmbuild.oci.registry import Registry
    from wasmbuild.store import Store

    ref = refs.parse(args.ref)
    if ref.registry is None:
        raise UsageError(f"{ref} names no registry to pull from",
                         f"name the registry, e.g. localhost:5000/{ref.repository}:{ref.tag or 'latest'}")
    console.step(f"pulling {ref}")
    with Registry(ref.registry, plain_http=args.plain_http, insecure=args.insecure) as registry:
        pulled = pull(registry, ref, Store())
    console.done(f"stored {pulled.entry.ref} ({pulled.variant} image {pulled.digest}, "
                 f"module {pulled.entry.digest}, {pulled.entry.size} bytes)")
    sys.stdout.write(f"{ref.name}@{pulled.digest}\n")
    return 0
