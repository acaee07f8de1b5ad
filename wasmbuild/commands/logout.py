"""`wasmbuild logout REGISTRY`: forget the saved credentials for a registry (helper and config file)."""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("registry", metavar="REGISTRY", help="host[:port] of the registry, e.g. localhost:5000")


def run(args: argparse.Namespace) -> int:
    from wasmbuild import console
    from wasmbuild.commands.login import registry_name
    from wasmbuild.oci import dockerconfig

    registry = registry_name(args.registry)
    removed = dockerconfig.remove(registry)
    if removed:
        console.done(f"removed the credentials for {registry} from {' and '.join(removed)}")
    else:
        console.info(f"not logged in to {registry}; nothing to remove")
    return 0
