"""Media types and annotations of Wasm images (solo-io/wasm spec, OCI image spec, Docker schema 2)."""

from __future__ import annotations

# OCI image spec
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER_TAR_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"

# Docker image manifest v2, schema 2
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER_TAR_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip"

# The Wasm artifact ("oci" variant, spec/spec.md) as wasme pushed it
WASM_CONFIG = "application/vnd.module.wasm.config.v1+json"
WASM_CONTENT_LAYER = "application/vnd.module.wasm.content.layer.v1+wasm"

MANIFESTS = (OCI_MANIFEST, DOCKER_MANIFEST)
INDEXES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
TAR_GZIP_LAYERS = (OCI_LAYER_TAR_GZIP, DOCKER_LAYER_TAR_GZIP)
# What a pull asks for, most preferred first.
ACCEPT = ", ".join((OCI_MANIFEST, DOCKER_MANIFEST, OCI_INDEX, DOCKER_MANIFEST_LIST))

# Annotations
TITLE = "org.opencontainers.image.title"
VARIANT = "module.wasm.image/variant"  # "compat" on compat images with an OCI manifest (spec-compat.md)
ABI_VERSION = "module.wasm.runtime/abi_version"  # wasme: the runtime config's abiVersions, comma-joined
RUNTIME_TYPE = "module.wasm.runtime/type"  # wasme: the runtime config's type ("envoy_proxy")

# File names inside images
PLUGIN_FILE = "plugin.wasm"  # the compat layer's module (what Istio extracts)
RUNTIME_CONFIG_FILE = "runtime-config.json"
WASME_MODULE_TITLE = "filter.wasm"  # the oci variant's content layer title, as wasme wrote it
