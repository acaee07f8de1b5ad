"""The registry API (OCI distribution spec) that push, pull and login need, and nothing more.

Plain HTTP for loopback registries (localhost, 127.0.0.0/8, ::1: what docker assumes too) and
for any registry given `plain_http=True`; HTTPS otherwise. Docker Hub's `docker.io` is served by
`registry-1.docker.io`. Every request carries the Authorization header the registry asked for
(see `wasmbuild.oci.auth`); every refusal becomes a RegistryError (NotFoundError for an unknown
manifest or repository) quoting the HTTP status and the registry's own error code and message.
"""

from __future__ import annotations

import urllib.parse

from wasmbuild.errors import NotFoundError, RegistryError
from wasmbuild.oci import mediatypes as mt
from wasmbuild.oci.auth import Authenticator, repository_scope
from wasmbuild.oci.http import HttpClient, Response, describe, is_loopback, registry_errors

TYPE_CHECKING = False  # the docker config is read only when a registry asks for credentials: not at import
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from wasmbuild.oci.dockerconfig import Credentials

MAX_MANIFEST_BYTES = 4 * 1024 * 1024  # what distribution itself accepts
CHUNKED_THRESHOLD = 64 * 1024 * 1024  # above this, blobs go up in PATCHed chunks
CHUNK_SIZE = 16 * 1024 * 1024
_NOT_FOUND_CODES = ("MANIFEST_UNKNOWN", "NAME_UNKNOWN", "BLOB_UNKNOWN", "NOT_FOUND")


def api_host(registry: str) -> str:
    return "registry-1.docker.io" if registry in ("docker.io", "index.docker.io") else registry


def _default_credentials(registry: str) -> Callable[[], Credentials | None]:
    def lookup() -> Credentials | None:
        from wasmbuild.oci import dockerconfig

        return dockerconfig.find(registry)

    return lookup


class Registry:
    def __init__(self, registry: str, *, plain_http: bool = False, insecure: bool = False,
                 credentials: Callable[[], Credentials | None] | None = None,
                 http: HttpClient | None = None) -> None:
        self.registry = registry
        self.plain_http = plain_http or is_loopback(registry)
        scheme = "http" if self.plain_http else "https"
        self.base = f"{scheme}://{api_host(registry)}/v2/"
        self.http = http or HttpClient(verify_tls=not insecure)
        self.auth = Authenticator(registry, self.http, credentials or _default_credentials(registry))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing ------------------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return urllib.parse.urljoin(self.base, path)

    def request(self, method: str, url: str, scopes: tuple[str, ...], headers: Mapping[str, str] | None = None,
                body: bytes | None = None, *, stream: bool = False, idempotent: bool | None = None,
                progress: Callable[[int], None] | None = None) -> Response:
        """One request, answering one authentication challenge if the registry sends one."""
        sent = dict(headers or {})
        header = self.auth.header(scopes)
        if header:
            sent["Authorization"] = header
        response = self.http.request(method, url, sent, body, stream=stream, idempotent=idempotent,
                                     progress=progress)
        if response.status == 401:
            response.close()
            sent["Authorization"] = self.auth.answer(response, scopes)
            response = self.http.request(method, url, sent, body, stream=stream, idempotent=idempotent,
                                         progress=progress)
            if response.status == 401:
                _read_error_body(response)
                raise self.auth.denied(response, f"{method} {_path(url)}")
        return response

    def _fail(self, response: Response, what: str) -> RegistryError:
        _read_error_body(response)
        message = f"{self.registry} refused to {what}: {describe(response)}"
        if response.status == 403:
            return RegistryError(message, f"the account needs access to that repository on {self.registry}")
        return RegistryError(message)

    # -- API -----------------------------------------------------------------------------------
    def ping(self) -> None:
        """GET /v2/ (authenticating if asked): proves the registry is there and the credentials work."""
        response = self.request("GET", self.base, ())
        if response.status != 200:
            raise self._fail(response, "answer the API check GET /v2/")

    def get_manifest(self, repository: str, reference: str) -> tuple[bytes, str, str | None]:
        """(manifest bytes, media type, Docker-Content-Digest header or None)."""
        url = self._url(f"{repository}/manifests/{reference}")
        scopes = (repository_scope(repository, "pull"),)
        response = self.request("GET", url, scopes, {"Accept": mt.ACCEPT}, stream=True)
        with response:
            if response.status != 200:
                _read_error_body(response)
                if response.status == 404 and (_codes(response) & set(_NOT_FOUND_CODES) or not response.body):
                    raise NotFoundError(f"{self.registry}/{repository}:{reference} was not found in the registry "
                                        f"({describe(response)})",
                                        "check the name and tag (the registry's tags list shows what is there)")
                raise self._fail(response, f"send the manifest of {repository}:{reference}")
            body = bytearray()
            for piece in response.iter_content():
                body += piece
                if len(body) > MAX_MANIFEST_BYTES:
                    raise RegistryError(f"the manifest of {repository}:{reference} is larger than 4 MiB; refused")
        media_type = (response.header("Content-Type") or "").split(";")[0].strip()
        return bytes(body), media_type, response.header("Docker-Content-Digest")

    def put_manifest(self, repository: str, reference: str, data: bytes, media_type: str) -> str | None:
        url = self._url(f"{repository}/manifests/{reference}")
        scopes = (repository_scope(repository, "pull,push"),)
        response = self.request("PUT", url, scopes, {"Content-Type": media_type}, data, idempotent=True)
        if response.status not in (200, 201):
            raise self._fail(response, f"store the manifest {repository}:{reference}")
        return response.header("Docker-Content-Digest")

    def blob_exists(self, repository: str, digest: str, scopes: tuple[str, ...]) -> bool:
        response = self.request("HEAD", self._url(f"{repository}/blobs/{digest}"), scopes)
        if response.status == 200:
            return True
        if response.status == 404:
            return False
        raise self._fail(response, f"say whether it has blob {digest}")

    def start_upload(self, repository: str, scopes: tuple[str, ...],
                     mount: tuple[str, str] | None = None) -> str | None:
        """An upload session URL, or None when `mount=(digest, from_repository)` was mounted instead."""
        path = f"{repository}/blobs/uploads/"
        if mount:
            path += "?" + urllib.parse.urlencode({"mount": mount[0], "from": mount[1]})
        response = self.request("POST", self._url(path), scopes, idempotent=True)
        if response.status == 201 and mount:
            return None
        if response.status != 202 or not response.header("Location"):
            raise self._fail(response, f"start a blob upload to {repository}")
        return urllib.parse.urljoin(self.base, response.header("Location") or "")

    def upload_blob(self, repository: str, digest: str, data: bytes, scopes: tuple[str, ...],
                    session: str | None = None, progress: Callable[[int], None] | None = None) -> None:
        """Upload `data` in one PUT, or in PATCHed chunks when it is large; the registry checks the digest."""
        location = session or self.start_upload(repository, scopes)
        assert location is not None
        octets = {"Content-Type": "application/octet-stream"}
        if len(data) > CHUNKED_THRESHOLD:
            view = memoryview(data)
            for start in range(0, len(data), CHUNK_SIZE):
                piece = bytes(view[start : start + CHUNK_SIZE])
                headers = {**octets, "Content-Range": f"{start}-{start + len(piece) - 1}"}
                response = self.request("PATCH", location, scopes, headers, piece, progress=progress)
                if response.status != 202 or not response.header("Location"):
                    raise self._fail(response, f"accept a chunk of blob {digest}")
                location = urllib.parse.urljoin(location, response.header("Location") or "")
            final = self.request("PUT", _with_query(location, digest), scopes, octets, b"")
        else:
            final = self.request("PUT", _with_query(location, digest), scopes, octets, data, progress=progress)
        if final.status != 201:
            raise self._fail(final, f"accept blob {digest}")
        echoed = final.header("Docker-Content-Digest")
        if echoed and echoed != digest:
            raise RegistryError(f"{self.registry} stored blob {digest} as {echoed}")

    def open_blob(self, repository: str, digest: str) -> Response:
        """A streamed GET of a blob (redirects followed); the caller reads, verifies and closes it."""
        scopes = (repository_scope(repository, "pull"),)
        response = self.request("GET", self._url(f"{repository}/blobs/{digest}"), scopes, stream=True)
        if response.status != 200:
            with response:
                if response.status == 404:
                    _read_error_body(response)
                    raise RegistryError(f"{self.registry}/{repository} lacks blob {digest} that its manifest names "
                                        f"({describe(response)})", "the image is incomplete; push it again")
                raise self._fail(response, f"send blob {digest}")
        return response


def _read_error_body(response: Response) -> None:
    """Load a streamed error response's (small) body so `describe` can quote it."""
    if response._raw is not None:
        try:
            response.body = response._raw.read(64 * 1024)
        except OSError:
            response.body = b""
        response.close()


def _codes(response: Response) -> set[str]:
    return {str(e.get("code")) for e in registry_errors(response) if isinstance(e, dict)}


def _with_query(location: str, digest: str) -> str:
    return location + ("&" if urllib.parse.urlsplit(location).query else "?") + urllib.parse.urlencode(
        {"digest": digest})


def _path(url: str) -> str:
    return urllib.parse.urlsplit(url).path
