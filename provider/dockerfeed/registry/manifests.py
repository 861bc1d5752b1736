"""Manifests: the digest a pull of a tag resolves, a manifest verified against its digest, and the
image of one platform inside an index.

distribution 2.x returns a *different* manifest (or 404 for OCI) when the Accept list is
incomplete, so the digest depends on it: every request accepts all four media types. HEAD gives
`Docker-Content-Digest` and does not count against Docker Hub's pull limit; some registries
omit the header, and then the manifest is fetched and hashed (docs/design.md, "Registry quirks").
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from dockerfeed.registry._http import NotAnObject, error_body, json_object, release
from dockerfeed.registry.connection import Connection
from dockerfeed.registry.errors import NotFound, ProtocolError, Unsupported
from dockerfeed.registry.failures import said
from dockerfeed.registry.ping import ensure_pinged
from dockerfeed.registry.platforms import Platform
from dockerfeed.registry.reference import check_reference, check_repository, normalize_image

MANIFEST_MEDIA_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_MEDIA_TYPES = frozenset(MANIFEST_MEDIA_TYPES[0::2])
MANIFEST_ACCEPT = ", ".join(MANIFEST_MEDIA_TYPES)
# fullmatch only: `$` would let a trailing newline through.
DIGEST_RE = re.compile(r"sha256:[a-f0-9]{64}")


def manifest_digest(conn: Connection, image: str, reference: str) -> str:
    """The digest a `docker pull image:reference` would resolve, by HEAD (GET as fallback)."""
    repo = normalize_image(image, conn.address)
    check_reference(reference)
    ensure_pinged(conn)
    if conn.api_version == "v1":
        raise Unsupported("this feed speaks the v1 API, which has no content digests; use a v2 registry")
    url = conn.address.url(f"/v2/{repo}/manifests/{reference}")
    scopes = (f"repository:{repo}:pull",)
    r = conn.send("HEAD", url, scopes=scopes, headers={"Accept": MANIFEST_ACCEPT})
    release(r)  # a HEAD has no body, not even errors[]
    if r.status_code == 404:
        raise NotFound(f"HEAD {url} answered 404: {repo}:{reference} does not exist")
    if r.status_code == 200:
        digest = str(r.headers.get("docker-content-digest", ""))
        if DIGEST_RE.fullmatch(digest):
            return digest
    elif r.status_code not in (405, 400):
        conn.fail(r, f"HEAD {url}")
    # No usable digest header (or no HEAD support): GET the manifest and hash it.
    return get_manifest(conn, repo, reference)[2]


def get_manifest(conn: Connection, repo: str, reference: str) -> tuple[str, dict[str, Any], str]:
    """Media type, parsed body and verified digest of a manifest."""
    url = conn.address.url(f"/v2/{check_repository(repo)}/manifests/{check_reference(reference)}")
    r = conn.send("GET", url, scopes=(f"repository:{repo}:pull",), headers={"Accept": MANIFEST_ACCEPT})
    if r.status_code == 404:
        raise NotFound(f"GET {url} answered 404: {repo}:{reference} does not exist{said(error_body(r))}")
    if r.status_code != 200:
        conn.fail(r, f"GET {url}")
    header = r.headers.get("docker-content-digest", "")
    media_type = r.headers.get("content-type", "").split(";")[0].strip()
    body = conn.read(r, conn.session.limits.manifest_bytes, f"GET {url}")
    digest = "sha256:" + hashlib.sha256(body).hexdigest()
    if header and header != digest:
        raise ProtocolError(
            f"GET {url}: the body hashes to {digest} but Docker-Content-Digest says {header}; "
            "refusing a manifest that does not match its digest"
        )
    if reference.startswith("sha256:") and reference != digest:
        raise ProtocolError(f"GET {url}: the body hashes to {digest}, not the requested {reference}")
    try:
        parsed = json_object(body)
    except NotAnObject as e:
        raise ProtocolError(f"GET {url} answered a manifest with {e.reason}") from None
    media_type = str(parsed.get("mediaType") or media_type)
    return media_type, parsed, digest


def platform_digest(conn: Connection, image: str, digest: str, platform: Platform) -> str:
    """The digest of the manifest for `platform` inside an index (or the manifest itself)."""
    repo = normalize_image(image, conn.address)
    media_type, manifest, _ = get_manifest(conn, repo, digest)
    if media_type in INDEX_MEDIA_TYPES or "manifests" in manifest:
        return _index_entry(repo, digest, manifest, platform)
    config = manifest.get("config") or {}
    cfg = _blob_json(conn, repo, str(config.get("digest", "")))
    if not platform.matches(cfg):
        raise NotFound(
            f"{repo}@{digest} is a single-platform image for "
            f"{cfg.get('os')}/{cfg.get('architecture')}, not {platform}"
        )
    return digest


def _index_entry(repo: str, digest: str, manifest: dict[str, Any], platform: Platform) -> str:
    entries = manifest.get("manifests") or []
    found = [
        m for m in entries if isinstance(m, dict) and m.get("platform") and platform.matches(m["platform"])
    ]
    if not found:
        offered = sorted(
            {
                str(
                    Platform(
                        m["platform"].get("os", "?"),
                        m["platform"].get("architecture", "?"),
                        m["platform"].get("variant"),
                    )
                )
                for m in entries
                if isinstance(m, dict) and isinstance(m.get("platform"), dict)
            }
        )
        raise NotFound(
            f"{repo}@{digest} has no image for {platform}; it offers {', '.join(offered) or 'none'}"
        )
    chosen = found[0].get("digest")
    if not isinstance(chosen, str) or not DIGEST_RE.fullmatch(chosen):
        raise ProtocolError(
            f"{repo}@{digest}: the index names the {platform} image by {chosen!r}, which is "
            "not a sha256 digest; refusing it"
        )
    return chosen


def _blob_json(conn: Connection, repo: str, digest: str) -> dict[str, Any]:
    if not DIGEST_RE.fullmatch(digest):
        raise ProtocolError(f"manifest of {repo} names a config blob with an invalid digest {digest!r}")
    url = conn.address.url(f"/v2/{check_repository(repo)}/blobs/{digest}")
    r = conn.send("GET", url, scopes=(f"repository:{repo}:pull",))
    if r.status_code != 200:
        conn.fail(r, f"GET {url}")
    return conn.json(r, conn.session.limits.manifest_bytes, f"GET {url}")


__all__ = ["DIGEST_RE", "MANIFEST_ACCEPT", "get_manifest", "manifest_digest", "platform_digest"]
