"""The test infrastructure itself, proven against the real servers.

If these fail, every integration/e2e result is suspect: they show that the fixtures start the
registries we think they start, that images land where we think, that pagination and token
auth behave as configured, and that an independent client (skopeo) sees the same thing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.support import images
from tests.support.servers import RegistryServer, RegistryStartError, Skopeo
from tests.support.tokenserver import Grant, TokenServer, make_ca, make_leaf

REGISTRY_FIXTURES = ["registry_v2_htpasswd", "registry_v3_paginated", "registry_v3_token"]


def _basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def _token(reg: RegistryServer, scopes: list[str], creds: tuple[str, str] | None) -> str:
    """A token straight from the token server, the way a Docker client asks for one."""
    assert reg.token_server is not None
    params = {"service": reg.token_server.service, "scope": scopes}
    response = httpx.get(reg.token_server.realm, params=params, auth=creds)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token"] == body["access_token"]
    assert body["expires_in"] >= 60 and body["issued_at"]
    return str(body["token"])


def _reader(reg: RegistryServer) -> tuple[str, str]:
    creds = reg.credentials
    assert creds is not None
    return creds


def _pusher(reg: RegistryServer) -> tuple[str, str] | None:
    return reg.push_credentials


# --------------------------------------------------------------------------- every registry


@pytest.mark.parametrize("fixture", REGISTRY_FIXTURES)
def test_push_then_list_and_resolve(
    fixture: str, request: pytest.FixtureRequest, unique_repo: Callable[[str], str]
) -> None:
    reg: RegistryServer = request.getfixturevalue(fixture)
    repo = unique_repo("demo")
    pushed = {
        tag: images.push_image(reg.url, repo, tag, auth=_pusher(reg))
        for tag in ["1.0.0", "1.1.0", "1.2.0-beta.1", "latest"]
    }
    # Deterministic content, one digest per tag.
    assert len(set(pushed.values())) == 4
    assert images.push_image(reg.url, repo, "1.0.0", auth=_pusher(reg)) == pushed["1.0.0"]

    assert sorted(images.list_tags(reg.url, repo, auth=_reader(reg))) == sorted(pushed)
    for tag, digest in pushed.items():
        assert images.get_digest(reg.url, repo, tag, auth=_reader(reg)) == digest


@pytest.mark.parametrize("fixture", REGISTRY_FIXTURES)
def test_skopeo_sees_the_same_tags_and_digests(
    fixture: str,
    request: pytest.FixtureRequest,
    skopeo: Skopeo,
    unique_repo: Callable[[str], str],
) -> None:
    reg: RegistryServer = request.getfixturevalue(fixture)
    repo = unique_repo("demo")
    single = images.push_image(reg.url, repo, "1.0.0", auth=_pusher(reg))
    oci = images.push_image(reg.url, repo, "1.0.1", auth=_pusher(reg), media="oci")
    multi = images.push_image_info(
        reg.url, repo, "2.0.0", auth=_pusher(reg), platforms=images.DEFAULT_PLATFORMS
    )

    assert sorted(skopeo.list_tags(reg, repo)) == ["1.0.0", "1.0.1", "2.0.0"]
    for tag, digest in [("1.0.0", single), ("1.0.1", oci), ("2.0.0", multi.digest)]:
        raw = skopeo.inspect_raw(reg, repo, tag)
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == digest
    index = json.loads(skopeo.inspect_raw(reg, repo, "2.0.0"))
    assert index["mediaType"] == images.DOCKER_LIST
    platforms = {
        "/".join(
            filter(None, [m["platform"]["os"], m["platform"]["architecture"], m["platform"].get("variant")])
        ): m["digest"]
        for m in index["manifests"]
    }
    assert platforms == multi.platform_digests
    assert (
        skopeo.digest(reg, repo, multi.platform_digests["linux/arm64/v8"])
        == (multi.platform_digests["linux/arm64/v8"])
    )


@pytest.mark.parametrize("fixture", ["registry_v2_htpasswd", "registry_v3_paginated"])
def test_digest_moves_and_tags_can_be_deleted(
    fixture: str, request: pytest.FixtureRequest, unique_repo: Callable[[str], str]
) -> None:
    reg: RegistryServer = request.getfixturevalue(fixture)
    repo = unique_repo("demo")
    auth = _pusher(reg)
    first = images.push_image(reg.url, repo, "1.0.0", auth=auth)
    images.push_image(reg.url, repo, "1.1.0", auth=auth)
    moved = images.push_image(reg.url, repo, "1.0.0", auth=auth, salt="rebuilt")
    assert moved != first
    assert images.get_digest(reg.url, repo, "1.0.0", auth=auth) == moved

    assert images.delete_tag(reg.url, repo, "1.1.0", auth=auth)
    assert images.list_tags(reg.url, repo, auth=auth) == ["1.0.0"]
    images.delete_manifest(reg.url, repo, moved, auth=auth)
    with reg.client(auth=auth) as client:
        gone = client.head(f"/v2/{repo}/manifests/1.0.0", headers={"Accept": images.MANIFEST_ACCEPT})
    assert gone.status_code == 404


# --------------------------------------------------------------------------- htpasswd


def test_v2_htpasswd_rejects_bad_credentials_and_ignores_n(
    registry_v2_htpasswd: RegistryServer, unique_repo: Callable[[str], str]
) -> None:
    reg = registry_v2_htpasswd
    user, password = _reader(reg)
    with reg.client() as client:
        anonymous = client.get("/v2/")
        assert anonymous.status_code == 401
        assert anonymous.headers["Docker-Distribution-API-Version"] == "registry/2.0"
        assert anonymous.headers["WWW-Authenticate"].lower().startswith("basic ")
        assert client.get("/v2/", headers=_basic(user, password + "x")).status_code == 401
        assert client.get("/v2/", headers=_basic(user, password)).status_code == 200

        repo = unique_repo("demo")
        tags = [f"1.0.{i}" for i in range(7)]
        images.seed_tags(reg.url, repo, tags, auth=(user, password), workers=4)
        # The reference implementation has no tag pagination: n is ignored, no Link.
        page = client.get(f"/v2/{repo}/tags/list", params={"n": 2}, headers=_basic(user, password))
    assert page.status_code == 200
    assert sorted(page.json()["tags"]) == sorted(tags)
    assert "Link" not in page.headers


# --------------------------------------------------------------------------- v3 pagination


def test_v3_tags_paginate_with_link_headers(
    registry_v3_paginated: RegistryServer, unique_repo: Callable[[str], str]
) -> None:
    reg = registry_v3_paginated
    assert reg.maxtags == 5
    repo = unique_repo("demo")
    tags = sorted(f"1.{i}.0" for i in range(12))
    seeded = images.seed_tags(reg.url, repo, tags, auth=_reader(reg), workers=4)
    assert len(set(seeded.values())) == 12

    collected: list[str] = []
    pages = 0
    with reg.client(auth=_reader(reg)) as client:
        url = f"/v2/{repo}/tags/list?n=5"
        while url:
            pages += 1
            response = client.get(url)
            assert response.status_code == 200
            page = response.json()["tags"]
            assert len(page) <= 5
            collected += page
            link = response.headers.get("Link")
            if link is None:
                break
            assert 'rel="next"' in link and "n=5" in link
            url = response.links["next"]["url"]
        assert collected == tags  # v3 pages are sorted and disjoint
        assert pages == 3

        # n above tags.maxtags is clamped (3.1.2), not refused.
        clamped = client.get(f"/v2/{repo}/tags/list", params={"n": 100})
        assert clamped.status_code == 200 and len(clamped.json()["tags"]) == 5
        assert "Link" in clamped.headers
        # Without n, 3.1.2 returns everything at once.
        whole = client.get(f"/v2/{repo}/tags/list")
        assert whole.json()["tags"] == tags and "Link" not in whole.headers

    assert images.list_tags(reg.url, repo, auth=_reader(reg), page_size=5) == tags


def test_v3_catalog_paginates_and_refuses_n_above_maxentries(
    registry_v3_paginated: RegistryServer, unique_repo: Callable[[str], str]
) -> None:
    reg = registry_v3_paginated
    for _ in range(6):
        images.push_image(reg.url, unique_repo("catalog"), "1.0.0", auth=_reader(reg))
    with reg.client(auth=_reader(reg)) as client:
        first = client.get("/v2/_catalog")
        assert first.status_code == 200
        assert len(first.json()["repositories"]) == 5
        assert first.links["next"]["url"]
        too_many = client.get("/v2/_catalog", params={"n": 6})
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0]["code"] == "PAGINATION_NUMBER_INVALID"


# --------------------------------------------------------------------------- token auth


def test_token_registry_requires_a_token_from_the_token_server(
    registry_v3_token: RegistryServer, unique_repo: Callable[[str], str]
) -> None:
    reg = registry_v3_token
    ts = reg.token_server
    assert ts is not None
    repo = unique_repo("demo")
    images.push_image(reg.url, repo, "1.0.0", auth=reg.push_credentials)
    scope = f"repository:{repo}:pull"

    with reg.client() as client:
        challenge = client.get("/v2/")
        assert challenge.status_code == 401
        header = challenge.headers["WWW-Authenticate"]
        assert header.startswith("Bearer ")
        assert f'realm="{ts.realm}"' in header and f'service="{ts.service}"' in header
        # Basic credentials are no substitute for a token.
        assert client.get("/v2/", headers=_basic(*_reader(reg))).status_code == 401
        # The repository challenge names the scope the client must ask for.
        denied = client.get(f"/v2/{repo}/tags/list")
        assert denied.status_code == 401
        assert f'scope="{scope}"' in denied.headers["WWW-Authenticate"]

        ts.clear_requests()
        token = _token(reg, [scope], _reader(reg))
        bearer = {"Authorization": f"Bearer {token}"}
        assert client.get("/v2/", headers=bearer).status_code == 200
        listed = client.get(f"/v2/{repo}/tags/list", headers=bearer)
        assert listed.status_code == 200 and listed.json()["tags"] == ["1.0.0"]
        # A pull token does not allow pushing.
        push = client.post(f"/v2/{repo}/blobs/uploads/", headers=bearer)
        assert push.status_code == 401
        assert 'error="insufficient_scope"' in push.headers["WWW-Authenticate"]

    log = ts.requests
    assert len(log) == 1
    assert log[0].username == "ci" and log[0].auth_present and log[0].scopes == (scope,)
    assert log[0].granted == (("repository", repo, ("pull",)),)
    # The request log must never hold a password.
    assert reg.password and reg.password not in repr(log)


def test_token_server_users_and_grants(
    registry_v3_token: RegistryServer, unique_repo: Callable[[str], str]
) -> None:
    reg = registry_v3_token
    ts = reg.token_server
    assert ts is not None
    private = unique_repo("demo")
    public = unique_repo("public")
    images.push_image(reg.url, private, "1.0.0", auth=reg.push_credentials)
    images.push_image(reg.url, public, "1.0.0", auth=reg.push_credentials)

    user, password = _reader(reg)
    wrong = httpx.get(ts.realm, params={"service": ts.service}, auth=(user, password + "x"))
    assert wrong.status_code == 401
    unknown = httpx.get(ts.realm, params={"service": ts.service}, auth=("nobody", "x"))
    assert unknown.status_code == 401

    def tags_status(repo: str, creds: tuple[str, str] | None) -> int:
        token = _token(reg, [f"repository:{repo}:pull"], creds)
        with reg.client() as client:
            return client.get(
                f"/v2/{repo}/tags/list", headers={"Authorization": f"Bearer {token}"}
            ).status_code

    nopull = ("nopull", reg.password_for("nopull"))
    assert tags_status(private, (user, password)) == 200
    assert tags_status(private, nopull) == 401  # valid login, token without access
    assert tags_status(private, None) == 401  # anonymous: no access to demo/*
    assert tags_status(public, None) == 200  # anonymous pull on public/*
    assert tags_status(public, nopull) == 200  # public is public for everyone

    # The token helper in tests.support.images pushes by following the challenge itself.
    assert images.list_tags(reg.url, public, auth=None) == ["1.0.0"]


def test_token_server_oauth_post_and_refresh(registry_v3_token: RegistryServer) -> None:
    reg = registry_v3_token
    ts = reg.token_server
    assert ts is not None
    user, password = _reader(reg)
    scope = "repository:demo/anything:pull registry:catalog:*"
    form = {
        "grant_type": "password",
        "service": ts.service,
        "client_id": "dockerfeed-tests",
        "access_type": "offline",
        "scope": scope,
        "username": user,
        "password": password,
    }
    response = httpx.post(ts.realm, data=form)
    assert response.status_code == 200
    body = response.json()
    assert body["access_token"] and body["refresh_token"]

    refreshed = httpx.post(
        ts.realm,
        data={
            "grant_type": "refresh_token",
            "service": ts.service,
            "client_id": "dockerfeed-tests",
            "scope": scope,
            "refresh_token": body["refresh_token"],
        },
    )
    assert refreshed.status_code == 200
    with reg.client() as client:
        catalog = client.get(
            "/v2/_catalog", headers={"Authorization": f"Bearer {refreshed.json()['access_token']}"}
        )
    assert catalog.status_code == 200

    bad = httpx.post(ts.realm, data={**form, "password": password + "x"})
    assert bad.status_code == 401
    recorded = [r for r in ts.requests if r.method == "POST"]
    assert [r.grant_type for r in recorded[-3:]] == ["password", "refresh_token", "password"]
    assert password not in repr(ts.requests) and body["refresh_token"] not in repr(ts.requests)


@pytest.mark.parametrize("impl", ["v2", "v3"])
@pytest.mark.parametrize("algorithm", ["ES256", "RS256"])
def test_registry_verifies_the_jwt_signature_and_claims(
    impl: str, algorithm: str, start_registry: Callable[..., RegistryServer]
) -> None:
    ts = TokenServer(
        users={"ci": "not-a-secret"},
        grants=[Grant("ci", "*", ("*",))],
        algorithm=algorithm,  # type: ignore[arg-type]
    )
    with ts:
        reg = start_registry(impl, auth="token", token_server=ts)
        access = [{"type": "repository", "name": "demo/x", "actions": ["pull"]}]
        stranger_ca = make_ca("not trusted", algorithm)  # type: ignore[arg-type]
        stranger = make_leaf(stranger_ca, "intruder", algorithm=algorithm)  # type: ignore[arg-type]
        cases = {
            "valid": (ts.issue_token("ci", access), 200),
            "wrong issuer": (ts.issue_token("ci", access, issuer="someone-else"), 401),
            "wrong audience": (ts.issue_token("ci", access, audience="other-registry"), 401),
            # Beyond distribution's 60 s leeway.
            "expired": (ts.issue_token("ci", access, expires_in=-120), 401),
            "untrusted signer": (ts.issue_token("ci", access, signer=stranger), 401),
        }
        with reg.client() as client:
            for name, (token, expected) in cases.items():
                got = client.get("/v2/", headers={"Authorization": f"Bearer {token}"})
                assert got.status_code == expected, f"{name}: {got.status_code}"


# --------------------------------------------------------------------------- lifecycle, TLS


def test_tls_registry_with_generated_ca(start_registry: Callable[..., RegistryServer]) -> None:
    reg = start_registry("v3", tls=True)
    assert reg.url.startswith("https://127.0.0.1:")
    with reg.client() as client:
        assert client.get("/v2/").status_code == 200
    with pytest.raises(httpx.ConnectError), httpx.Client() as untrusting:
        untrusting.get(f"{reg.url}/v2/")
    digest = images.push_image(reg.url, "demo/tls", "1.0.0", verify=reg.verify)
    assert images.get_digest(reg.url, "demo/tls", "1.0.0", verify=reg.verify) == digest


def test_stop_removes_everything_and_secrets_stay_out_of_logs(
    start_registry: Callable[..., RegistryServer],
) -> None:
    reg = start_registry("v2", auth="htpasswd", users={"ci": "Sup3r-secret-pw"})
    images.push_image(reg.url, "demo/x", "1.0.0", auth=reg.credentials)
    workdir, url = reg.workdir, reg.url
    assert workdir is not None
    assert "Sup3r-secret-pw" not in repr(reg)
    assert "Sup3r-secret-pw" not in reg.read_log()
    assert "Sup3r-secret-pw" not in reg.config_path.read_text()
    reg.stop()
    assert not workdir.exists()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/v2/", timeout=2)


def test_startup_failure_reports_the_log(
    start_registry: Callable[..., RegistryServer], tmp_path: Path
) -> None:
    # A "registry" that prints something and dies: the error must carry its output.
    fake = tmp_path / "fake-registry"
    fake.write_text("#!/bin/sh\necho 'configuration error: something is wrong' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(RegistryStartError, match=r"(?s)exited with 3.*something is wrong"):
        start_registry("v3", binary=str(fake), startup_timeout=10)


@pytest.mark.parametrize("kind", ["token server", "fault proxy"])
def test_in_process_servers_stay_quiet_when_a_client_hangs_up(
    kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A client that resets a kept-alive connection (the CLI's pool does, on exit) must not put
    a traceback into the test's stderr: CLI tests read that stderr (CI failed once on this)."""
    import socket
    import struct
    import time

    from tests.support.faultproxy import FaultProxy

    server: TokenServer | FaultProxy = TokenServer() if kind == "token server" else FaultProxy(None)
    with server:
        port = server.port if isinstance(server, TokenServer) else int(server.url.rsplit(":", 1)[1])
        for _ in range(3):
            sock = socket.create_connection(("127.0.0.1", port))
            time.sleep(0.05)  # the handler is now blocked reading the request line
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()  # RST, as a client dropping a pooled connection
        time.sleep(0.2)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "Exception occurred" not in captured.err
