"""Credential sources against real parts on loopback: moto's ECR driven by botocore, a Google
token endpoint that verifies what google-auth signs, Docker credential helpers; the credentials
they give then authenticate pulls from a distribution registry behind the test token server.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dockerfeed import sources
from dockerfeed.registry import ConnectionSettings, Registry
from dockerfeed.sources import CredentialSpec, RegistryHost, Resolved, SourceCache, SourceError
from tests.support import images
from tests.support.cloud import AWS_ACCOUNT, AWS_REGION, GoogleTokenEndpoint, MotoECR
from tests.support.servers import RegistryServer
from tests.support.tokenserver import Grant, TokenServer

GRANTS = (
    Grant("admin", "*", ("*",)),
    Grant("*", "demo/*", ("pull",)),
    Grant("*", "catalog", ("*",), type="registry"),
)


def host_of(reg: RegistryServer) -> RegistryHost:
    return RegistryHost(reg.url, reg.host)


def token_registry(start_registry: Callable[..., RegistryServer], users: dict[str, str]) -> RegistryServer:
    """A registry (distribution 2.8) whose token server reads `users` live: change it to rotate a password."""
    users["admin"] = "admin-" + secrets.token_urlsafe(12)
    ts = TokenServer(users=users, grants=GRANTS)
    return start_registry("v2", auth="token", users=users, token_server=ts, pusher="admin")


def pull_tags(reg: RegistryServer, answer: Resolved, repo: str) -> list[str]:
    """List tags with what a source answered (as the client will once the seam takes a source)."""
    settings = ConnectionSettings(reg.url, username=answer.username, password=answer.secret)
    return sorted(Registry(settings).list_tags(repo))


def seed(reg: RegistryServer, repo: str, tags: list[str]) -> None:
    images.seed_tags(reg.url, repo, tags, auth=reg.push_credentials)


# --- AWS: ECR GetAuthorizationToken through botocore, served by moto ----------------------------


@pytest.fixture
def moto(monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoECR]:
    pytest.importorskip("moto.server", reason="moto[server] is part of the test extra")
    with MotoECR() as server:
        for key, value in server.env.items():
            monkeypatch.setenv(key, value)
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE"):
            monkeypatch.delenv(key, raising=False)
        yield server


def test_ecr_token_from_moto_authenticates_pulls(
    moto: MotoECR, start_registry: Callable[..., RegistryServer], unique_repo: Callable[[str], str]
) -> None:
    reg = token_registry(start_registry, {"AWS": moto.password()})
    repo = unique_repo("demo")
    seed(reg, repo, ["1.0", "1.1"])
    spec = CredentialSpec.parse({"source": "aws", "registryId": AWS_ACCOUNT, "region": AWS_REGION})
    answer = sources.resolve(spec, host_of(reg), cache=SourceCache())
    assert answer.username == "AWS"
    assert answer.source == f"aws ECR GetAuthorizationToken ({AWS_ACCOUNT}, {AWS_REGION})"
    assert pull_tags(reg, answer, repo) == ["1.0", "1.1"]


def test_ecr_account_and_region_come_from_the_host(moto: MotoECR) -> None:
    other = "210987654321"
    ecr = RegistryHost(
        f"https://{other}.dkr.ecr.us-east-2.amazonaws.com", f"{other}.dkr.ecr.us-east-2.amazonaws.com"
    )
    answer = sources.resolve(CredentialSpec("aws"), ecr, cache=SourceCache())
    # moto's password names the account it was asked for.
    assert answer.secret == moto.password(other)
    assert answer.source == f"aws ECR GetAuthorizationToken ({other}, us-east-2)"


def test_ecr_with_a_role_to_assume(moto: MotoECR) -> None:
    spec = CredentialSpec.parse(
        {
            "source": "aws",
            "registryId": AWS_ACCOUNT,
            "region": AWS_REGION,
            "roleArn": f"arn:aws:iam::{AWS_ACCOUNT}:role/ci",
        }
    )
    answer = sources.resolve(spec, RegistryHost("http://127.0.0.1:1", "127.0.0.1:1"), cache=SourceCache())
    assert (answer.username, answer.secret) == ("AWS", moto.password())


def test_ecr_token_is_asked_again_when_its_expiry_has_passed(moto: MotoECR) -> None:
    # moto stamps every token `expiresAt: 2015-01-01`: by its real expiry it is already stale,
    # so the cache must not keep it.
    spec = CredentialSpec("aws", registry_id=AWS_ACCOUNT, region=AWS_REGION)
    cache = SourceCache()
    host = RegistryHost("http://127.0.0.1:1", "127.0.0.1:1")
    first = sources.resolve(spec, host, cache=cache)
    assert first.expires_at is not None and first.expires_at < 1.5e9
    sources.resolve(spec, host, cache=cache)
    assert cache.misses == 2


def test_aws_without_any_identity_says_where_it_looked(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("botocore")
    for key in list(os.environ):
        if key.startswith("AWS_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/dev/null")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(SourceError) as e:
        sources.resolve(
            CredentialSpec("aws", registry_id=AWS_ACCOUNT, region=AWS_REGION),
            RegistryHost("http://x", "x"),
            cache=SourceCache(),
        )
    assert "no AWS credentials were found" in str(e.value)
    assert "web identity" in str(e.value)


# --- Google: a service-account key whose token_uri is a local endpoint --------------------------


@pytest.fixture
def google() -> Iterator[GoogleTokenEndpoint]:
    pytest.importorskip("google.auth", reason="google-auth is part of the test extra")
    endpoint = GoogleTokenEndpoint()
    yield endpoint
    endpoint.stop()


def write_key(path: Path, endpoint: GoogleTokenEndpoint) -> Path:
    path.write_text(json.dumps(endpoint.service_account_key(), indent=2))
    path.chmod(0o600)
    return path


def test_gcp_access_token_from_a_service_account_key_authenticates_pulls(
    google: GoogleTokenEndpoint,
    start_registry: Callable[..., RegistryServer],
    unique_repo: Callable[[str], str],
    tmp_path: Path,
) -> None:
    users = {"oauth2accesstoken": "none-issued-yet"}
    google.on_issue = lambda token: users.__setitem__("oauth2accesstoken", token)  # the newest only
    reg = token_registry(start_registry, users)
    repo = unique_repo("demo")
    seed(reg, repo, ["2.0"])
    key = write_key(tmp_path / "key.json", google)
    cache = SourceCache()
    spec = CredentialSpec.parse({"source": "gcp", "keyFile": str(key)})
    answer = sources.resolve(spec, host_of(reg), cache=cache)
    assert answer.username == "oauth2accesstoken"
    assert answer.source == f"gcp access token (service-account key {key})"
    assert answer.expires_at is not None
    assert [(g.status, g.issuer) for g in google.grants] == [(200, google.client_email)]
    assert pull_tags(reg, answer, repo) == ["2.0"]
    # Cached by its expiry: the next feed of the run asks the endpoint nothing.
    assert sources.resolve(spec, host_of(reg), cache=cache) is answer
    assert google.issued == 1


def test_gcp_token_is_renewed_when_it_expires_mid_run(google: GoogleTokenEndpoint, tmp_path: Path) -> None:
    google.expires_in = 600
    key = write_key(tmp_path / "key.json", google)
    later = [0.0]
    cache = SourceCache(clock=lambda: time.time() + later[0])
    spec = CredentialSpec("gcp", key_file=str(key))
    host = RegistryHost("http://127.0.0.1:1", "127.0.0.1:1")
    first = sources.resolve(spec, host, cache=cache)
    assert sources.resolve(spec, host, cache=cache) is first
    later[0] = 600.0  # the run goes on past the token's expiry
    second = sources.resolve(spec, host, cache=cache)
    assert second is not first and google.issued == 2
    # (compared by digest: a failing assertion must not print a token)
    assert hashlib.sha256(first.secret.encode()).digest() != hashlib.sha256(second.secret.encode()).digest()


def test_gcp_application_default_credentials(
    google: GoogleTokenEndpoint, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(write_key(tmp_path / "adc.json", google)))
    answer = sources.resolve(CredentialSpec("gcp"), RegistryHost("http://x", "x"), cache=SourceCache())
    assert answer.source == "gcp access token (Application Default Credentials)"
    assert google.issued == 1


def test_gcp_assertion_signed_with_another_key_is_refused(
    google: GoogleTokenEndpoint, tmp_path: Path
) -> None:
    impostor = GoogleTokenEndpoint(client_email=google.client_email, key_id=google.key_id)
    try:
        key = impostor.service_account_key()
    finally:
        impostor.stop()
    key["token_uri"] = google.token_uri
    path = tmp_path / "key.json"
    path.write_text(json.dumps(key))
    with pytest.raises(SourceError) as e:
        sources.resolve(
            CredentialSpec("gcp", key_file=str(path)), RegistryHost("http://x", "x"), cache=SourceCache()
        )
    assert "got no access token" in str(e.value) and "Invalid JWT Signature" in str(e.value)
    assert key["private_key"] not in str(e.value)
    assert [g.error for g in google.grants] == ["Invalid JWT Signature."]


def test_gcp_json_key_basic_form(
    google: GoogleTokenEndpoint,
    start_registry: Callable[..., RegistryServer],
    unique_repo: Callable[[str], str],
    tmp_path: Path,
) -> None:
    key = write_key(tmp_path / "key.json", google)
    reg = token_registry(start_registry, {"_json_key": key.read_text().strip()})
    repo = unique_repo("demo")
    seed(reg, repo, ["3.1"])
    answer = sources.resolve(
        CredentialSpec.parse({"source": "gcp", "jsonKey": True, "keyFile": str(key)}),
        host_of(reg),
        cache=SourceCache(),
    )
    assert answer.username == "_json_key" and answer.expires_at is None
    assert pull_tags(reg, answer, repo) == ["3.1"]
    assert google.issued == 0  # no token exchange in this form


# --- through the registry client and `dockerfeed test --credentials` ----------------------------


def test_registry_client_asks_the_aws_source_and_test_prints_it(
    moto: MotoECR,
    start_registry: Callable[..., RegistryServer],
    unique_repo: Callable[[str], str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    from dockerfeed import cli

    reg = token_registry(start_registry, {"AWS": moto.password()})
    repo = unique_repo("demo")
    seed(reg, repo, ["1.0"])
    spec = CredentialSpec("aws", registry_id=AWS_ACCOUNT, region=AWS_REGION)
    assert Registry(ConnectionSettings(reg.url, credentials=spec)).list_tags(repo) == ["1.0"]
    code = cli.main(
        [
            "test",
            reg.url,
            "--credentials",
            f"aws,registryId={AWS_ACCOUNT},region={AWS_REGION}",
            "--image",
            repo,
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert (
        f"credentials  accepted by the token service: user 'AWS' from aws ECR GetAuthorizationToken "
        f"({AWS_ACCOUNT}, {AWS_REGION})" in out
    )
    assert moto.password() not in out


def test_cli_docker_source_from_a_credential_helper(
    start_registry: Callable[..., RegistryServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from dockerfeed import cli
    from tests.integration.test_registry_client import install_helper, write_docker_config

    users = {"ci": "ci-" + secrets.token_urlsafe(12)}
    reg = token_registry(start_registry, users)
    install_helper(tmp_path / "bin", "cloudtest", {reg.host: ("ci", users["ci"])}, monkeypatch)
    write_docker_config(tmp_path / "docker", {"credHelpers": {reg.host: "cloudtest"}}, monkeypatch)
    assert cli.main(["test", reg.url, "--credentials", "docker"]) == 0
    assert (
        "accepted by the token service: user 'ci' from docker-credential-cloudtest" in capsys.readouterr().out
    )
    write_docker_config(tmp_path / "docker", {"auths": {}}, monkeypatch)
    assert cli.main(["test", reg.url, "--credentials", "docker"]) == 1
    assert f"run `docker login {reg.host}`" in capsys.readouterr().err
