"""Push small, real images to a registry without Docker.

Test support, not the product: the auth handling here is a deliberately minimal Basic/Bearer
flow so that tests never depend on the code they are testing.

Content is deterministic: the same (repo, tag, salt, platforms, media) always produces the same
bytes, hence the same digest, while the tag is written into the image config's labels so every
tag gets its own digest. Pass a different `salt` to re-push a tag with new content ("the digest
moved"). All images share one tiny gzip layer, so re-pushing mostly uploads a config blob.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import threading
from collections.abc import Generator, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import httpx

Media = Literal["docker", "oci"]
Credentials = tuple[str, str]
Verify = Any  # bool | ssl.SSLContext, whatever httpx accepts

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"

# Every manifest type we produce: distribution 2.x answers with a different representation
# (or 404) when the Accept list is incomplete, so digests must always be read with all of them.
MANIFEST_ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST])

_MEDIA: dict[str, dict[str, str]] = {
    "docker": {
        "manifest": DOCKER_MANIFEST,
        "index": DOCKER_LIST,
        "config": DOCKER_CONFIG,
        "layer": DOCKER_LAYER,
    },
    "oci": {"manifest": OCI_MANIFEST, "index": OCI_INDEX, "config": OCI_CONFIG, "layer": OCI_LAYER},
}

DEFAULT_PLATFORMS = ("linux/amd64", "linux/arm64/v8")


class PushError(RuntimeError):
    """The registry refused a push step (message has the status and the registry's body)."""


# --------------------------------------------------------------------------- auth


_PARAM = re.compile(r'(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    """`Bearer realm="...",service="...",scope="..."` → ("bearer", {...}).

    Minimal on purpose (one challenge per header, as distribution sends); the product's parser
    is tested separately against the hard cases.
    """
    scheme, _, rest = header.strip().partition(" ")
    params = {
        m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3))
        for m in _PARAM.finditer(rest)
    }
    return scheme.lower(), params


_REPO_IN_PATH = re.compile(r"^/v2/(.+?)/(?:blobs|manifests|tags)/")


class RegistryAuth(httpx.Auth):
    """Basic or Bearer, chosen by the registry's 401 challenge; tokens cached per repository.

    For Bearer it asks the realm for `repository:<repo>:<actions>` (pull,push,delete by default)
    so one token serves the whole push; the token server grants what the user may have.
    """

    requires_response_body = True

    def __init__(
        self,
        credentials: Credentials | None = None,
        actions: Sequence[str] = ("pull", "push", "delete"),
    ) -> None:
        self._credentials = credentials
        self._actions = ",".join(actions)
        self._lock = threading.Lock()
        self._use_basic = False
        self._tokens: dict[str, str] = {}
        self.token_fetches = 0

    def __repr__(self) -> str:
        user = self._credentials[0] if self._credentials else None
        return f"RegistryAuth(user={user!r})"

    def _basic_header(self) -> str:
        assert self._credentials is not None
        user, password = self._credentials
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        match = _REPO_IN_PATH.match(request.url.path)
        repo = match.group(1) if match else ""
        with self._lock:
            token = self._tokens.get(repo)
            use_basic = self._use_basic
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        elif use_basic and self._credentials:
            request.headers["Authorization"] = self._basic_header()
        response = yield request
        if response.status_code != 401:
            return
        scheme, params = _parse_challenge(response.headers.get("WWW-Authenticate", ""))
        if scheme == "basic" and self._credentials:
            with self._lock:
                self._use_basic = True
            request.headers["Authorization"] = self._basic_header()
            yield request
        elif scheme == "bearer" and "realm" in params:
            scopes = params.get("scope", "").split()
            if repo:
                scopes = [s for s in scopes if not s.startswith(f"repository:{repo}:")]
                scopes.append(f"repository:{repo}:{self._actions}")
            # One `scope` parameter per scope, as the token protocol wants.
            query: dict[str, str | list[str]] = {"scope": scopes}
            if "service" in params:
                query["service"] = params["service"]
            token_request = httpx.Request("GET", params["realm"], params=query)
            if self._credentials:
                token_request.headers["Authorization"] = self._basic_header()
            token_response = yield token_request
            self.token_fetches += 1
            if token_response.status_code != 200:
                raise PushError(
                    f"token server {params['realm']} answered {token_response.status_code}: "
                    f"{token_response.text[:200]}"
                )
            body = token_response.json()
            token = body.get("token") or body.get("access_token")
            if not token:
                raise PushError("token server answered without a token")
            with self._lock:
                self._tokens[repo] = token
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


def registry_client(
    base_url: str,
    *,
    auth: Credentials | None = None,
    verify: Verify = True,
    max_connections: int = 16,
    timeout: float = 60.0,
) -> httpx.Client:
    """An httpx client for `base_url` that answers Basic and Bearer challenges by itself."""
    return httpx.Client(
        base_url=base_url,
        auth=RegistryAuth(auth),
        verify=verify,
        timeout=timeout,
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
    )


# --------------------------------------------------------------------------- content


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _canonical(obj: Any) -> bytes:
    # Sorted keys and no whitespace: the bytes (and so the digest) are a pure function of obj.
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


@cache
def _layer() -> tuple[bytes, str]:
    """(gzip bytes, diff_id) of a one-file layer; fixed mtime/owner so it is reproducible."""
    payload = b"hello from pulumi-dockerfeed tests\n"
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("dockerfeed.txt")
        info.size = len(payload)
        info.mtime = 0
        info.mode = 0o644
        tar.addfile(info, io.BytesIO(payload))
    tar_bytes = raw.getvalue()
    return gzip.compress(tar_bytes, mtime=0), sha256_digest(tar_bytes)


def _platform(text: str) -> dict[str, str]:
    parts = text.split("/")
    if len(parts) not in (2, 3):
        raise ValueError(f"platform must be os/arch[/variant], not {text!r}")
    platform = {"os": parts[0], "architecture": parts[1]}
    if len(parts) == 3:
        platform["variant"] = parts[2]
    return platform


def _config(repo: str, tag: str, salt: str, platform: str) -> bytes:
    _, diff_id = _layer()
    labels = {"dev.dockerfeed.test.repository": repo, "dev.dockerfeed.test.tag": tag}
    if salt:
        labels["dev.dockerfeed.test.salt"] = salt
    return _canonical(
        {
            **_platform(platform),
            "created": "2024-01-01T00:00:00Z",
            "config": {"Labels": labels, "Cmd": ["/bin/true"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    )


def _descriptor(media_type: str, data: bytes, **extra: Any) -> dict[str, Any]:
    return {"mediaType": media_type, "size": len(data), "digest": sha256_digest(data), **extra}


def _manifest(media: Media, config: bytes, annotations: dict[str, str] | None = None) -> bytes:
    types = _MEDIA[media]
    layer, _ = _layer()
    manifest: dict[str, Any] = {
        "schemaVersion": 2,
        "mediaType": types["manifest"],
        "config": _descriptor(types["config"], config),
        "layers": [_descriptor(types["layer"], layer)],
    }
    if annotations:
        manifest["annotations"] = annotations
    return _canonical(manifest)


@dataclass(frozen=True)
class PushedImage:
    digest: str  # what the tag points to (the index digest for multi-platform images)
    media_type: str
    manifest: bytes = field(repr=False)
    platform_digests: dict[str, str] = field(default_factory=dict)  # "linux/arm64/v8" → digest


# --------------------------------------------------------------------------- protocol steps


def _check(response: httpx.Response, expected: Iterable[int], what: str) -> httpx.Response:
    if response.status_code not in tuple(expected):
        raise PushError(f"{what}: HTTP {response.status_code} {response.text[:300]}")
    return response


def upload_blob(client: httpx.Client, repo: str, data: bytes) -> str:
    """Upload a blob unless the repository already has it; returns its digest."""
    digest = sha256_digest(data)
    if client.head(f"/v2/{repo}/blobs/{digest}").status_code == 200:
        return digest
    # POST then one PUT with the whole body ("monolithic" in two steps): the form every
    # distribution version supports.
    start = _check(client.post(f"/v2/{repo}/blobs/uploads/"), (202,), f"start upload to {repo}")
    location = client.base_url.join(start.headers["Location"])
    location = location.copy_merge_params({"digest": digest})
    _check(
        client.put(location, content=data, headers={"Content-Type": "application/octet-stream"}),
        (201,),
        f"upload blob {digest} to {repo}",
    )
    return digest


def put_manifest(client: httpx.Client, repo: str, reference: str, manifest: bytes, media_type: str) -> str:
    digest = sha256_digest(manifest)
    response = _check(
        client.put(
            f"/v2/{repo}/manifests/{reference}",
            content=manifest,
            headers={"Content-Type": media_type},
        ),
        (201,),
        f"put manifest {repo}:{reference}",
    )
    # The registry stores our bytes verbatim, so its digest must be ours; a mismatch means the
    # registry rewrote the manifest and every digest assertion downstream would be wrong.
    answered = response.headers.get("Docker-Content-Digest")
    if answered and answered != digest:
        raise PushError(f"registry digest {answered} != pushed bytes' digest {digest}")
    return digest


def push_image_with(
    client: httpx.Client,
    repo: str,
    tag: str,
    *,
    platforms: Sequence[str] | None = None,
    media: Media = "docker",
    salt: str = "",
) -> PushedImage:
    """push_image_info on an existing client (reuses its connections and tokens)."""
    types = _MEDIA[media]
    layer, _ = _layer()
    upload_blob(client, repo, layer)
    if not platforms:
        config = _config(repo, tag, salt, "linux/amd64")
        upload_blob(client, repo, config)
        manifest = _manifest(media, config)
        digest = put_manifest(client, repo, tag, manifest, types["manifest"])
        return PushedImage(digest, types["manifest"], manifest)
    entries: list[dict[str, Any]] = []
    children: dict[str, str] = {}
    for platform in platforms:
        config = _config(repo, tag, salt, platform)
        upload_blob(client, repo, config)
        child = _manifest(media, config)
        # Children go in by digest first: the registry refuses an index whose entries it lacks.
        child_digest = put_manifest(client, repo, sha256_digest(child), child, types["manifest"])
        children[platform] = child_digest
        entries.append(_descriptor(types["manifest"], child, platform=_platform(platform)))
    index = _canonical({"schemaVersion": 2, "mediaType": types["index"], "manifests": entries})
    digest = put_manifest(client, repo, tag, index, types["index"])
    return PushedImage(digest, types["index"], index, children)


def push_image_info(
    base_url: str,
    repo: str,
    tag: str,
    *,
    auth: Credentials | None = None,
    platforms: Sequence[str] | None = None,
    media: Media = "docker",
    salt: str = "",
    verify: Verify = True,
) -> PushedImage:
    """Like push_image, but also returns the manifest bytes and per-platform digests."""
    with registry_client(base_url, auth=auth, verify=verify) as client:
        return push_image_with(client, repo, tag, platforms=platforms, media=media, salt=salt)


def push_image(
    base_url: str,
    repo: str,
    tag: str,
    *,
    auth: Credentials | None = None,
    platforms: Sequence[str] | None = None,
    media: Media = "docker",
    salt: str = "",
    verify: Verify = True,
) -> str:
    """Push `repo:tag` and return the digest the tag points to.

    platforms: None → one image manifest (linux/amd64); a list such as DEFAULT_PLATFORMS → a
    Docker manifest list / OCI index over one image per platform.
    salt: change it to re-push the same tag with different content (a new digest).
    """
    return push_image_info(
        base_url, repo, tag, auth=auth, platforms=platforms, media=media, salt=salt, verify=verify
    ).digest


def seed_tags(
    base_url: str,
    repo: str,
    tags: Iterable[str],
    *,
    auth: Credentials | None = None,
    media: Media = "oci",
    workers: int = 16,
    verify: Verify = True,
) -> dict[str, str]:
    """Push many tags fast; returns {tag: digest}.

    One config blob and one layer are uploaded once; each tag then costs a single manifest PUT.
    The tag goes into the manifest's `annotations` so digests still differ per tag without new
    blobs (OCI defines manifest annotations; distribution also keeps the field verbatim in a
    Docker schema2 manifest, which is why media="docker" works too).
    """
    types = _MEDIA[media]
    tag_list = list(tags)
    with registry_client(base_url, auth=auth, verify=verify, max_connections=workers) as client:
        layer, _ = _layer()
        upload_blob(client, repo, layer)
        config = _config(repo, "seed", "", "linux/amd64")
        upload_blob(client, repo, config)

        def push_one(tag: str) -> tuple[str, str]:
            manifest = _manifest(media, config, {"org.opencontainers.image.version": tag})
            return tag, put_manifest(client, repo, tag, manifest, types["manifest"])

        if not tag_list:
            return {}
        # Warm the auth cache with one request so the workers do not all fetch a token at once.
        first = dict([push_one(tag_list[0])])
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            rest = dict(pool.map(push_one, tag_list[1:]))
        return first | rest


def get_digest(
    base_url: str,
    repo: str,
    reference: str,
    *,
    auth: Credentials | None = None,
    verify: Verify = True,
) -> str:
    """The digest `reference` resolves to (HEAD with every manifest type in Accept)."""
    with registry_client(base_url, auth=auth, verify=verify) as client:
        response = _check(
            client.head(f"/v2/{repo}/manifests/{reference}", headers={"Accept": MANIFEST_ACCEPT}),
            (200,),
            f"HEAD {repo}:{reference}",
        )
        return response.headers["Docker-Content-Digest"]


def list_tags(
    base_url: str,
    repo: str,
    *,
    auth: Credentials | None = None,
    verify: Verify = True,
    page_size: int | None = None,
    max_pages: int = 100_000,
) -> list[str]:
    """Every tag of `repo`, following `Link` (a test oracle, not the product's lister)."""
    tags: list[str] = []
    with registry_client(base_url, auth=auth, verify=verify) as client:
        url: httpx.URL = client.base_url.join(f"/v2/{repo}/tags/list")
        if page_size is not None:
            url = url.copy_merge_params({"n": str(page_size)})
        for _ in range(max_pages):
            response = _check(client.get(url), (200,), f"list tags of {repo}")
            tags.extend(response.json().get("tags") or [])
            link = response.links.get("next", {}).get("url")
            if not link:
                return tags
            url = client.base_url.join(link)
    raise PushError(f"more than {max_pages} pages of tags for {repo}")


def delete_manifest(
    base_url: str,
    repo: str,
    digest: str,
    *,
    auth: Credentials | None = None,
    verify: Verify = True,
) -> None:
    """Delete a manifest by digest: every tag pointing at it disappears with it."""
    with registry_client(base_url, auth=auth, verify=verify) as client:
        _check(client.delete(f"/v2/{repo}/manifests/{digest}"), (202,), f"delete {repo}@{digest}")


def delete_tag(
    base_url: str,
    repo: str,
    tag: str,
    *,
    auth: Credentials | None = None,
    verify: Verify = True,
) -> str:
    """Remove `tag`; returns the digest it pointed to.

    distribution 3 untags by name and keeps the manifest. distribution 2.8 cannot delete a tag
    by name (it answers 400/405 UNSUPPORTED), so there we delete the manifest the tag points to;
    since push_image gives every tag its own digest, only that tag goes away.
    """
    digest = get_digest(base_url, repo, tag, auth=auth, verify=verify)
    with registry_client(base_url, auth=auth, verify=verify) as client:
        response = client.delete(f"/v2/{repo}/manifests/{tag}")
        if response.status_code == 202:
            return digest
        if response.status_code not in (400, 405):
            _check(response, (202,), f"delete tag {repo}:{tag}")
        _check(client.delete(f"/v2/{repo}/manifests/{digest}"), (202,), f"delete {repo}@{digest}")
    return digest


def seed_tags_in_storage(
    base_url: str,
    storage_dir: str | os.PathLike[str],
    repo: str,
    tags: Iterable[str],
    *,
    auth: Credentials | None = None,
    media: Media = "oci",
    verify: Verify = True,
) -> dict[str, str]:
    """Like seed_tags, but writes the manifests straight into the registry's filesystem storage.

    For 10k-100k-tag benchmarks, where pushing costs minutes (~300 manifests/s) and writing
    files costs seconds. Only for a local RegistryServer (its `storage_dir`) with the
    filesystem driver and no blob-descriptor cache configured, which is how RegistryServer runs
    it. The first tag is pushed over HTTP so the repository, its layer and config links exist
    exactly as the registry makes them; the rest follow distribution's storage layout
    (registry/storage/paths.go): the manifest bytes as a blob, a revision link, and per tag a
    `current/link` plus an `index/sha256/<hex>/link`. The registry reads tags from disk on
    every request, so the new tags are visible at once.
    """
    types = _MEDIA[media]
    tag_list = list(tags)
    if not tag_list:
        return {}
    root = Path(storage_dir) / "docker" / "registry" / "v2"
    with registry_client(base_url, auth=auth, verify=verify) as client:
        layer, _ = _layer()
        upload_blob(client, repo, layer)
        config = _config(repo, "seed", "", "linux/amd64")
        upload_blob(client, repo, config)

        def manifest_for(tag: str) -> bytes:
            return _manifest(media, config, {"org.opencontainers.image.version": tag})

        first = tag_list[0]
        result = {first: put_manifest(client, repo, first, manifest_for(first), types["manifest"])}
    manifests_dir = root / "repositories" / repo / "_manifests"
    if not (manifests_dir / "tags" / first / "current" / "link").is_file():
        raise PushError(f"{root} does not look like this registry's filesystem storage")
    for tag in tag_list[1:]:
        manifest = manifest_for(tag)
        digest = sha256_digest(manifest)
        hex_ = digest.removeprefix("sha256:")
        blob = root / "blobs" / "sha256" / hex_[:2] / hex_ / "data"
        blob.parent.mkdir(parents=True, exist_ok=True)
        blob.write_bytes(manifest)
        for link in (
            manifests_dir / "revisions" / "sha256" / hex_ / "link",
            manifests_dir / "tags" / tag / "index" / "sha256" / hex_ / "link",
            manifests_dir / "tags" / tag / "current" / "link",
        ):
            link.parent.mkdir(parents=True, exist_ok=True)
            link.write_text(digest)
        result[tag] = digest
    return result
