#!/bin/sh
# Compiles and links with emscripten (standalone wasm; see the link flags in BUILD).
. "$(dirname "$0")/common.sh"
exec em++ "$@"
