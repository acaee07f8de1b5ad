#!/bin/sh
# Archives wasm32 objects with llvm-ar (package llvm), which understands wasm object files.
exec llvm-ar "$@"
