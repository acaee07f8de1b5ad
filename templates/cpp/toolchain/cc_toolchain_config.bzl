"""A minimal C++ toolchain configuration for wasm32 compilers (Bazel 4.x, legacy crosstool).

Bazel calls the compiler through a wrapper script in this folder (cc, also used to link) and the
archiver (ar); everything target-specific is in those scripts and in the flags given here.
"""

load("@bazel_tools//tools/build_defs/cc:action_names.bzl", "ACTION_NAMES")
load("@bazel_tools//tools/cpp:cc_toolchain_config_lib.bzl", "feature", "flag_group", "flag_set", "tool_path")

_COMPILE_ACTIONS = [
    ACTION_NAMES.assemble,
    ACTION_NAMES.c_compile,
    ACTION_NAMES.cpp_compile,
    ACTION_NAMES.cpp_header_parsing,
    ACTION_NAMES.cpp_module_compile,
    ACTION_NAMES.preprocess_assemble,
]

_LINK_ACTIONS = [
    ACTION_NAMES.cpp_link_executable,
]

def _flags_feature(name, actions, flags):
    return feature(
        name = name,
        enabled = True,
        flag_sets = [flag_set(actions = actions, flag_groups = [flag_group(flags = flags)])],
    )

def _impl(ctx):
    # Tools Bazel may ask for but a wasm build never uses point at /bin/false.
    tool_paths = [tool_path(name = name, path = "/bin/false") for name in ["cpp", "gcov", "nm", "objdump", "strip"]]
    tool_paths += [
        tool_path(name = "gcc", path = ctx.attr.cc),
        tool_path(name = "ld", path = ctx.attr.cc),
        tool_path(name = "ar", path = ctx.attr.ar),
    ]
    features = [
        _flags_feature("default_compile_flags", _COMPILE_ACTIONS, ctx.attr.compile_flags),
        _flags_feature("default_link_flags", _LINK_ACTIONS, ctx.attr.link_flags),
        feature(name = "opt"),
        feature(name = "dbg"),
        feature(name = "fastbuild"),
        feature(name = "supports_pic", enabled = False),
    ]
    return cc_common.create_cc_toolchain_config_info(
        ctx = ctx,
        features = features,
        cxx_builtin_include_directories = ctx.attr.builtin_include_directories,
        toolchain_identifier = ctx.attr.name,
        host_system_name = "x86_64-unknown-linux-gnu",
        target_system_name = ctx.attr.target_system_name,
        target_cpu = "wasm32",
        target_libc = "unknown",
        compiler = ctx.attr.compiler,
        abi_version = "unknown",
        abi_libc_version = "unknown",
        tool_paths = tool_paths,
    )

wasm_cc_toolchain_config = rule(
    implementation = _impl,
    attrs = {
        "ar": attr.string(mandatory = True),
        "builtin_include_directories": attr.string_list(),
        "cc": attr.string(mandatory = True),
        "compile_flags": attr.string_list(),
        "compiler": attr.string(mandatory = True),
        "link_flags": attr.string_list(),
        "target_system_name": attr.string(mandatory = True),
    },
    provides = [CcToolchainConfigInfo],
)
