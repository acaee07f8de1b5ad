"""`wasmbuild package FILE.wasm -t REF`: store a module built elsewhere (wasme's `build precompiled`).

The module is checked against the proxy-wasm ABI first; a module with error findings is refused,
so everything in the store is something a proxy would load.
"""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.wasm", help="the module to store")
    parser.add_argument("-t", "--tag", dest="ref", metavar="REF", required=True, help="the reference to store it under")
    parser.add_argument("--runtime-config", metavar="FILE",
                        help="runtime-config.json to store with it (default: one naming the module's ABI version "
                             "and --root-id)")
    parser.add_argument("--root-id", metavar="ID", default="", help="the root id for the default runtime config")
    parser.add_argument("--abi", metavar="VERSION",
                        help="the ABI version the module must declare (default: whatever it declares)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from wasmbuild import refs, runtime_config
    from wasmbuild.build.units import human_size
    from wasmbuild.build.verify import check_module
    from wasmbuild.errors import NotFoundError, from_os_error
    from wasmbuild.oci import layout
    from wasmbuild.store import Store

    ref = refs.normalize(args.ref)
    path = Path(args.file)
    try:
        module = path.read_bytes()
    except FileNotFoundError:
        raise NotFoundError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise NotFoundError(f"{path} is a directory, not a .wasm file") from None
    except OSError as exc:
        raise from_os_error(exc, f"cannot read {path}") from exc
    report = check_module(module, args.abi, str(path))
    if args.runtime_config:
        config = runtime_config.load(Path(args.runtime_config), f"--runtime-config {args.runtime_config}")
    else:
        abi_versions = [f"v{report.abi}"] if report.abi else []
        config = runtime_config.default(abi_versions, [args.root_id] if args.root_id else [])
    entry = Store().put(ref, module, config, image=layout.packed(module, config))
    sys.stdout.write(f"{entry.ref}  {human_size(entry.size)}  sha256:{entry.sha256}  ABI {report.abi or '?'}\n")
    return 0
