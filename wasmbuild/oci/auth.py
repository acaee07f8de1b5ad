"""Answering a registry's authentication challenges: anonymous, Basic, and Bearer tokens.

A registry says what it wants in `WWW-Authenticate` on a 401. `Basic` takes the saved user and
password on every request. `Bearer realm=...,service=...,scope=...` sends us to a token server for
a token scoped to the repositories and actions at hand (the distribution token spec): fetched with
Basic credentials if we have them, or anonymously (public images), or, for identity tokens, by the
OAuth2 refresh-token grant. Credentials are looked up only when a challenge asks for them, so
anonymous pulls never run a credential helper.
"""

from __future__ import annotations

import json
import re
import time
import urllib.parse

from wasmbuild.errors import RegistryError
from wasmbuild.oci.http import HttpClient, Response, describe
from wasmbuild.record import Record

TYPE_CHECKING = False  # dockerconfig is loaded only when a registry asks for credentials (registry.py)
if TYPE_CHECKING:
    from collections.abc import Callable

    from wasmbuild.oci.dockerconfig import Credentials

# Compiled on the first challenge (re caches it), not at import: ~0.35 ms that push and pull to a
# registry without authentication never need.
_PARAM = r'\s*([A-Za-z][\w-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*,?'


class Challenge(Record):
    _fields = ("scheme", "params")
    __slots__ = _fields
    scheme: str  # lower case: "basic" or "bearer"
    params: dict[str, str]

    def __init__(self, scheme: str, params: dict[str, str]) -> None:
        self._set(scheme, params)


def parse_challenge(header: str) -> Challenge | None:
    """The first challenge of a WWW-Authenticate header (registries send one)."""
    match = re.match(r"\s*([A-Za-z][\w-]*)\s*", header)
    if not match:
        return None
    params: dict[str, str] = {}
    rest = header[match.end():]
    position = 0
    while position < len(rest):
        found = re.compile(_PARAM).match(rest, position)
        if not found or found.end() == position:
            break
        value = found.group(2) if found.group(2) is not None else found.group(3)
        params[found.group(1).lower()] = re.sub(r"\\(.)", r"\1", value)
        position = found.end()
    return Challenge(match.group(1).lower(), params)


def repository_scope(repository: str, actions: str) -> str:
    return f"repository:{repository}:{actions}"


class Authenticator:
    """The Authorization header for one registry, learnt from its challenges and cached per scope."""

    def __init__(self, registry: str, http: HttpClient,
                 credentials: Callable[[], Credentials | None]) -> None:
        self.registry = registry
        self._http = http
        self._lookup = credentials
        self._credentials: Credentials | None = None
        self._looked_up = False
        self._basic = False
        self._tokens: dict[tuple[str, ...], tuple[str, float]] = {}

    def credentials(self) -> Credentials | None:
        if not self._looked_up:
            self._credentials = self._lookup()
            self._looked_up = True
        return self._credentials

    def header(self, scopes: tuple[str, ...]) -> str | None:
        """What to send before any challenge: a cached token for these scopes, or Basic once learnt."""
        if self._basic:
            creds = self.credentials()
            return creds.basic() if creds else None
        cached = self._tokens.get(scopes)
        if cached and cached[1] > time.monotonic():
            return f"Bearer {cached[0]}"
        return None

    def answer(self, response: Response, scopes: tuple[str, ...]) -> str:
        """The header answering the 401 `response`, or RegistryError if we cannot."""
        challenge = parse_challenge(response.header("WWW-Authenticate") or "")
        if challenge is None:
            raise RegistryError(f"{self.registry} asks for authentication (401) without saying how")
        if challenge.scheme == "basic":
            creds = self.credentials()
            if creds is None or not creds.username or (creds.identity_token and not creds.password):
                raise self._login_needed()
            if self._basic:  # we already sent them, and they were refused
                raise self._refused(response, creds)
            self._basic = True
            return creds.basic()
        if challenge.scheme == "bearer":
            token, lifetime = self._fetch_token(challenge, scopes)
            self._tokens[scopes] = (token, time.monotonic() + max(lifetime - 10, 1))
            return f"Bearer {token}"
        raise RegistryError(f"{self.registry} asks for {challenge.scheme!r} authentication, which wasmbuild "
                            "does not speak", "use a registry with Basic or Bearer token authentication")

    def _fetch_token(self, challenge: Challenge, scopes: tuple[str, ...]) -> tuple[str, float]:
        realm = challenge.params.get("realm")
        if not realm or urllib.parse.urlsplit(realm).scheme not in ("http", "https"):
            raise RegistryError(f"{self.registry} sent a Bearer challenge without a usable realm: {realm!r}")
        wanted = scopes or tuple(s for s in challenge.params.get("scope", "").split(" ") if s)
        creds = self.credentials()
        query: list[tuple[str, str]] = []
        if challenge.params.get("service"):
            query.append(("service", challenge.params["service"]))
        query += [("scope", s) for s in wanted]
        if creds is not None and creds.identity_token:
            form = urllib.parse.urlencode([("grant_type", "refresh_token"), ("refresh_token", creds.identity_token),
                                           ("client_id", "wasmbuild"), *query]).encode()
            response = self._http.request("POST", realm, {"Content-Type": "application/x-www-form-urlencoded"},
                                          form, idempotent=True)
        else:
            if creds is not None:
                query.append(("account", creds.username))
            url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
            headers = {"Authorization": creds.basic()} if creds is not None else {}
            response = self._http.request("GET", url, headers)
        if response.status in (401, 403):
            if creds is None:
                raise self._login_needed()
            raise self._refused(response, creds)
        if response.status != 200:
            raise RegistryError(f"the token server {realm} answered {response.status} {response.reason}")
        try:
            data = json.loads(response.body)
            token = data.get("token") or data.get("access_token")
            lifetime = float(data.get("expires_in") or 60)
        except (ValueError, AttributeError) as exc:
            raise RegistryError(f"the token server {realm} sent an invalid answer") from exc
        if not isinstance(token, str) or not token:
            raise RegistryError(f"the token server {realm} sent no token")
        return token, lifetime

    def denied(self, response: Response, what: str) -> RegistryError:
        """The error for a request still refused (401) after answering the challenge."""
        creds = self.credentials()
        if creds is None:
            return self._login_needed()
        if self._basic:
            return self._refused(response, creds)
        return RegistryError(f"{self.registry} refused {what} to {creds.username!r}: {describe(response)}",
                             "the account may lack access to that repository; check it, or log in as another "
                             f"user with 'wasmbuild login {self.registry}'")

    def _login_needed(self) -> RegistryError:
        return RegistryError(f"{self.registry} requires authentication and no credentials are saved for it",
                             f"run 'wasmbuild login {self.registry}' (or 'docker login {self.registry}')")

    def _refused(self, response: Response, creds: Credentials) -> RegistryError:
        where = f" (from {creds.source})" if creds.source else ""
        return RegistryError(f"{self.registry} refused the credentials of {creds.username!r}{where}: "
                             f"{describe(response)}", f"run 'wasmbuild login {self.registry}' again")
