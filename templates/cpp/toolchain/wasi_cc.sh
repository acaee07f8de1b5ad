#!/bin/sh
# Compiles and links for wasm32-wasi with the system clang and Debian's wasi-libc and libc++
# for wasm32 (packages clang, lld, wasi-libc, libc++-dev-wasm32, libclang-rt-dev-wasm32).
exec clang++ --target=wasm32-wasi "$@"
