"""User input for deploy: Kubernetes names, label selectors, plugin configuration, ports.

Everything here is checked before anything is rendered, so a typo gets a one-line UsageError (or a
ConfigError for the plugin configuration) that names the flag, instead of an object the API server
refuses later. The rules are Kubernetes' own (DNS-1123 names, label syntax).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from wasmbuild import argfile
from wasmbuild.errors import ConfigError, UsageError

# Kubernetes' name rules (the CRD schemas in crd_validation use them too).
DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_SUBDOMAIN = rf"{DNS1123_LABEL}(\.{DNS1123_LABEL})*"
_DNS1123_LABEL = re.compile(DNS1123_LABEL)
_DNS1123_SUBDOMAIN = re.compile(DNS1123_SUBDOMAIN)
_LABEL_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def object_name(value: str, flag: str) -> str:
    """A Kubernetes object name (DNS-1123 subdomain), as metadata.name of a WasmPlugin or EnvoyFilter."""
    if not value or len(value) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(value):
        raise UsageError(f"{flag} {value!r} is not a valid Kubernetes name",
                         "use lower-case letters, digits, '-' and '.', starting and ending with a letter or "
                         "digit, at most 253 characters (e.g. add-header)")
    return value


def namespace_name(value: str, flag: str = "--namespace") -> str:
    """A namespace name (DNS-1123 label)."""
    if not value or len(value) > 63 or not _DNS1123_LABEL.fullmatch(value):
        raise UsageError(f"{flag} {value!r} is not a valid namespace name",
                         "use lower-case letters, digits and '-', starting and ending with a letter or digit, "
                         "at most 63 characters (e.g. istio-system)")
    return value


def _label_key(key: str) -> bool:
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS1123_SUBDOMAIN.fullmatch(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_LABEL_NAME.fullmatch(name))


def _label_value(value: str) -> bool:
    return value == "" or (len(value) <= 63 and bool(_LABEL_NAME.fullmatch(value)))


def parse_selector(items: Iterable[str] | None, flag: str = "--selector") -> dict[str, str]:
    """`app=web,version=v1` (the flag may be repeated) -> {"app": "web", "version": "v1"}.

    Equality only: WasmPlugin's selector.matchLabels and EnvoyFilter's workloadSelector.labels take exact
    labels, no set expressions and no wildcards.
    """
    labels: dict[str, str] = {}
    for item in items or ():
        for pair in item.split(","):
            pair = pair.strip()
            key, eq, value = pair.partition("=")
            key, value = key.strip(), value.strip()
            if not eq or value.startswith("="):
                raise UsageError(f"{flag} {pair!r} is not key=value",
                                 f"write {flag} app=my-app[,version=v1] (exact label matches only)")
            _check_label(key, value, flag)
            if key in labels and labels[key] != value:
                raise UsageError(f"{flag}: label {key!r} is given twice ({labels[key]!r} and {value!r})")
            labels[key] = value
    return labels


def _check_label(key: str, value: str, flag: str) -> None:
    if not isinstance(key, str) or not _label_key(key):
        raise UsageError(f"{flag}: {key!r} is not a valid label key",
                         "keys are [prefix/]name: name up to 63 letters, digits, '-', '_', '.'")
    if not isinstance(value, str) or not _label_value(value):
        raise UsageError(f"{flag}: {value!r} (for {key}) is not a valid label value",
                         "values are up to 63 letters, digits, '-', '_', '.', starting and ending "
                         "with a letter or digit; wildcards are not allowed")


def check_labels(labels: Mapping[str, str], flag: str = "--selector") -> dict[str, str]:
    """A copy of `labels` after checking every key and value against Kubernetes' label syntax."""
    for key, value in labels.items():
        _check_label(key, value, flag)
    return dict(labels)


@dataclass(frozen=True)
class PluginConfig:
    """The plugin configuration: its parsed JSON value and the compact text the filter receives."""

    value: Any
    text: str

    @classmethod
    def of(cls, value: Any) -> PluginConfig:
        """The configuration for a JSON value: the filter receives it as compact JSON."""
        return cls(value, json.dumps(value, separators=(",", ":"), ensure_ascii=False))

    def as_object(self, flag: str = "--config") -> dict[str, Any]:
        """The value as a JSON object, as WasmPlugin.pluginConfig (a google.protobuf.Struct) requires."""
        if not isinstance(self.value, dict):
            kind = type(self.value).__name__.replace("NoneType", "null").replace("dict", "object")
            raise ConfigError(f"{flag}: a WasmPlugin's pluginConfig must be a JSON object, not {kind}",
                              'wrap it in an object, e.g. {"name": "x-hello", "value": "world"}')
        return self.value


def load_plugin_config(spec: str | None, flag: str = "--config") -> PluginConfig | None:
    """`--config TEXT`, `--config @FILE` or `--config @-` (stdin), parsed as JSON; None when not given."""
    data = argfile.read(spec, flag)
    if spec is None or data is None:
        return None
    source = argfile.source(spec)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # JSON is UTF-8; a lone surrogate would end up in the manifest and break kubectl
        raise ConfigError(f"{flag}: {source} is not UTF-8 text (byte {exc.start})",
                          "write the configuration in UTF-8") from None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{flag}: {source} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                          'the plugin configuration is JSON, e.g. {"name": "x-hello", "value": "world"}') from exc
    return PluginConfig.of(value)


def int32(value: int | None, flag: str) -> int | None:
    if value is not None and not INT32_MIN <= value <= INT32_MAX:
        raise UsageError(f"{flag} {value} is out of range", f"use a 32-bit integer ({INT32_MIN}..{INT32_MAX})")
    return value


def port(text: str | int, flag: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise UsageError(f"{flag}: {text!r} is not a port number", "use a number from 1 to 65535") from None
    if not 1 <= number <= 65535:
        raise UsageError(f"{flag}: port {number} is out of range", "use a number from 1 to 65535")
    return number


_HOST_LABEL = r"[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}$){_HOST_LABEL}(\.{_HOST_LABEL})*\.?")


def host_port(text: str, flag: str, default_host: str | None = None) -> tuple[str, int]:
    """`HOST:PORT`, `[IPv6]:PORT` (or a bare PORT when `default_host` is given) -> (host, port)."""
    import ipaddress

    text = text.strip()
    if default_host is not None and text.isdigit():
        return default_host, port(text, flag)
    if text.startswith("["):
        host, sep, rest = text[1:].partition("]")
        if not sep or not rest.startswith(":"):
            raise UsageError(f"{flag}: {text!r} is not [IPV6]:PORT", f"for example {flag} [::1]:8000")
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise UsageError(f"{flag}: {host!r} is not an IPv6 address") from None
        return host, port(rest[1:], flag)
    host, sep, number = text.rpartition(":")
    if not sep or not host:
        raise UsageError(f"{flag}: {text!r} is not HOST:PORT", f"for example {flag} 127.0.0.1:8000")
    if not _HOSTNAME.fullmatch(host) and not is_ip(host):
        raise UsageError(f"{flag}: {host!r} is not a host name or IP address")
    return host, port(number, flag)


def is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
