"""Recorded behaviour of ACR and GitLab with the credential sources, through httpx.MockTransport.

What no local server shows (docs/credentials.md): ACR's `/oauth2/exchange` and its refresh-token
grant, ACR admin users and repository-scoped tokens, GitLab's token service refusing a deploy
token the catalog scope. The Azure AD token itself comes from azure-identity's real
DefaultAzureCredential, asking a managed-identity endpoint on loopback (tests/support/cloud.py).
"""

from __future__ import annotations

import base64
import json
import secrets
import time
from collections.abc import Iterator
from urllib.parse import parse_qs

import httpx
import pytest

from dockerfeed.registry import ConnectionSettings, Registry, Unsupported, check_feed, search
from dockerfeed.resolve import resolve_image
from dockerfeed.sources import CredentialSpec
from dockerfeed.versions import VersionRule
from tests.support.cloud import AzureManagedIdentity
from tests.support.recorded import V2, Handler, basic_credentials, use

DIGEST = "sha256:" + "ab" * 32


def _jwt(claims: dict[str, object]) -> str:
    part = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"eyJhbGciOiJSUzI1NiJ9.{part}.{secrets.token_urlsafe(8)}"


# --- ACR ----------------------------------------------------------------------------------------

ACR = "myreg.azurecr.io"
ACR_CHALLENGE = f'Bearer realm="https://{ACR}/oauth2/token",service="{ACR}"'


class RecordedACR:
    """myreg.azurecr.io as it answers: exchange, token grants, Basic admin and scoped tokens."""

    def __init__(self, aad_tokens: list[str]) -> None:
        self.aad_tokens = aad_tokens  # what the managed identity handed out: all the exchange accepts
        self.refresh_tokens: set[str] = set()
        self.access: dict[str, set[str]] = {}  # access token -> repositories it may pull
        self.users = {"myreg": "admin-" + secrets.token_hex(4)}  # the admin user
        self.scoped = {"ci-token": ("tok-" + secrets.token_hex(4), {"team/app"})}  # repository-scoped
        self.exchanges: list[dict[str, str]] = []

    def _grant(self, repos: set[str], scopes: list[str]) -> httpx.Response:
        wanted = {s.split(":")[1] for s in scopes if s.startswith("repository:")}
        token = "acr." + secrets.token_hex(8)
        self.access[token] = wanted & repos
        return httpx.Response(200, json={"access_token": token})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.host == ACR
        path = request.url.path
        if path == "/oauth2/exchange":
            form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
            self.exchanges.append({k: v for k, v in form.items() if k != "access_token"})
            if form.get("grant_type") != "access_token" or form.get("access_token") not in self.aad_tokens:
                return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED"}]})
            refresh = _jwt({"exp": int(time.time()) + 3 * 3600, "tenant": form.get("tenant")})
            self.refresh_tokens.add(refresh)
            return httpx.Response(200, json={"refresh_token": refresh})
        if path == "/oauth2/token":
            if request.method == "POST":
                form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
                if (
                    form.get("grant_type") != "refresh_token"
                    or form.get("refresh_token") not in self.refresh_tokens
                ):
                    return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED"}]})
                return self._grant({"team/app", "team/other"}, form.get("scope", "").split())
            creds = basic_credentials(request)
            scopes = request.url.params.get_list("scope")
            if creds and self.users.get(creds[0]) == creds[1]:
                return self._grant({"team/app", "team/other"}, scopes)
            if creds and creds[0] in self.scoped and self.scoped[creds[0]][0] == creds[1]:
                return self._grant(self.scoped[creds[0]][1], scopes)
            return httpx.Response(401, json={"errors": [{"code": "UNAUTHORIZED"}]})
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        if path == "/v2/":
            if token in self.access:
                return httpx.Response(200, headers=V2, json={})
            return httpx.Response(401, headers={**V2, "WWW-Authenticate": ACR_CHALLENGE})
        if path.startswith("/v2/team/"):
            repo = path.removeprefix("/v2/").rsplit("/", 2)[0]
            if repo not in self.access.get(token, set()):
                scoped = ACR_CHALLENGE + f',scope="repository:{repo}:pull"'
                return httpx.Response(401, headers={**V2, "WWW-Authenticate": scoped})
            if path.endswith("/tags/list"):
                return httpx.Response(200, headers=V2, json={"name": repo, "tags": ["1.0", "1.2", "2.0-rc1"]})
            if "/manifests/" in path:
                return httpx.Response(
                    200,
                    headers={
                        **V2,
                        "Docker-Content-Digest": DIGEST,
                        "Content-Type": "application/vnd.oci.image.manifest.v1+json",
                    },
                )
        return httpx.Response(404, headers=V2, json={"errors": [{"code": "NAME_UNKNOWN"}]})


@pytest.fixture
def identity(monkeypatch: pytest.MonkeyPatch) -> Iterator[AzureManagedIdentity]:
    pytest.importorskip("azure.identity", reason="azure-identity is part of the test extra")
    server = AzureManagedIdentity()
    for key in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(key, raising=False)
    for key, value in server.env.items():
        monkeypatch.setenv(key, value)
    yield server
    server.stop()


def test_acr_azure_source_exchanges_the_aad_token_and_lists_tags(identity: AzureManagedIdentity) -> None:
    acr = RecordedACR(identity.tokens)
    seen = use(acr)
    settings = ConnectionSettings(f"https://{ACR}", credentials=CredentialSpec("azure"))
    steps: list[tuple[str, str]] = []
    check_feed(settings, progress=lambda s, d: steps.append((s, d)), image="team/app")
    said = dict(steps)["credentials"]
    assert said.startswith(
        "accepted by the token service: an identity token from azure (DefaultAzureCredential"
    )
    assert sorted(Registry(settings).list_tags("team/app")) == ["1.0", "1.2", "2.0-rc1"]
    # One AAD token, one exchange for the whole run (cached by its expiry), with the token's tenant.
    assert identity.requests == [("https://containerregistry.azure.net", "ok")]
    assert acr.exchanges == [{"grant_type": "access_token", "service": ACR, "tenant": identity.tenant}]
    grants = [r for r in seen if r.url.path == "/oauth2/token"]
    assert grants and all(r.method == "POST" for r in grants)  # the refresh-token grant
    assert all(identity.tokens[0] not in r.url.query.decode() for r in seen)  # never in a URL


def test_acr_exchange_refused_names_the_role_to_grant(identity: AzureManagedIdentity) -> None:
    use(RecordedACR(aad_tokens=[]))  # this registry knows none of the identity's tokens
    settings = ConnectionSettings(f"https://{ACR}", credentials=CredentialSpec("azure"))
    with pytest.raises(Exception) as e:
        Registry(settings).list_tags("team/app")
    assert "POST https://myreg.azurecr.io/oauth2/exchange refused the Azure AD token (HTTP 401)" in str(
        e.value
    )
    assert "AcrPull" in str(e.value)
    assert identity.tokens[0] not in str(e.value)


def test_acr_admin_user_is_basic_to_the_token_service() -> None:
    acr = RecordedACR([])
    use(acr)
    settings = ConnectionSettings(f"https://{ACR}", username="myreg", password=acr.users["myreg"])
    assert sorted(Registry(settings).list_tags("team/other")) == ["1.0", "1.2", "2.0-rc1"]


def test_acr_repository_scoped_token_pulls_its_repository_only() -> None:
    # Octopus #7434: a scoped token is a user name (the token's name) and a password, as Basic.
    acr = RecordedACR([])
    use(acr)
    name, (password, _repos) = next(iter(acr.scoped.items()))
    settings = ConnectionSettings(f"https://{ACR}", username=name, password=password)
    pin = resolve_image(settings, "team/app", VersionRule.build(pre_release_tag="^$"))
    assert (pin.tag, pin.digest) == ("1.2", DIGEST)
    with pytest.raises(Exception, match="team/other"):
        Registry(settings).list_tags("team/other")


# --- GitLab -------------------------------------------------------------------------------------

GITLAB = "registry.gitlab.example.com"
GITLAB_REALM = "https://gitlab.example.com/jwt/auth"
GITLAB_CHALLENGE = f'Bearer realm="{GITLAB_REALM}",service="container_registry"'
DEPLOY_USER = "gitlab+deploy-token-7"


def gitlab(deploy_password: str, tokens: dict[str, set[str]]) -> Handler:
    """GitLab's registry and /jwt/auth: a deploy token (read_registry) may pull its project's
    repositories and log in, but the catalog scope is refused (OctopusDeploy/Issues #8156)."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "gitlab.example.com":
            assert request.url.path == "/jwt/auth" and request.method == "GET"
            if basic_credentials(request) != (DEPLOY_USER, deploy_password):
                return httpx.Response(
                    401, json={"errors": [{"code": "UNAUTHORIZED", "message": "HTTP Basic: Access denied"}]}
                )
            scopes = request.url.params.get_list("scope")
            if any(s.startswith("registry:catalog") for s in scopes):
                return httpx.Response(
                    403, json={"errors": [{"code": "DENIED", "message": "access forbidden"}]}
                )
            token = "gl." + secrets.token_hex(8)
            tokens[token] = {s.split(":")[1] for s in scopes if s.startswith("repository:group/project")}
            return httpx.Response(200, json={"token": token, "expires_in": 900})
        assert request.url.host == GITLAB
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        path = request.url.path
        if path == "/v2/":
            if token in tokens:
                return httpx.Response(200, headers=V2, json={})
            return httpx.Response(401, headers={**V2, "WWW-Authenticate": GITLAB_CHALLENGE})
        if path == "/v2/_catalog":
            scoped = GITLAB_CHALLENGE + ',scope="registry:catalog:*"'
            return httpx.Response(401, headers={**V2, "WWW-Authenticate": scoped})
        repo = path.removeprefix("/v2/").rsplit("/", 2)[0]
        if repo not in tokens.get(token, set()):
            scoped = GITLAB_CHALLENGE + f',scope="repository:{repo}:pull"'
            return httpx.Response(401, headers={**V2, "WWW-Authenticate": scoped})
        if path.endswith("/tags/list"):
            return httpx.Response(
                200, headers=V2, json={"name": repo, "tags": ["v1.0.0", "v1.1.0", "latest"]}
            )
        if "/manifests/" in path:
            return httpx.Response(
                200,
                headers={
                    **V2,
                    "Docker-Content-Digest": DIGEST,
                    "Content-Type": "application/vnd.oci.image.manifest.v1+json",
                },
            )
        return httpx.Response(404, headers=V2)

    return handler


@pytest.fixture
def deploy_token(monkeypatch: pytest.MonkeyPatch) -> str:
    password = "gldt-" + secrets.token_urlsafe(12)
    # As GitLab CI hands it to a job: CI_DEPLOY_USER and CI_DEPLOY_PASSWORD.
    monkeypatch.setenv("CI_DEPLOY_USER", DEPLOY_USER)
    monkeypatch.setenv("CI_DEPLOY_PASSWORD", password)
    return password


SPEC = CredentialSpec("env", variable="CI_DEPLOY_PASSWORD", username_variable="CI_DEPLOY_USER")


def test_gitlab_deploy_token_save_and_test_tags_and_resolve(deploy_token: str) -> None:
    use(gitlab(deploy_token, {}))
    settings = ConnectionSettings(f"https://{GITLAB}", credentials=SPEC)
    steps: list[tuple[str, str]] = []
    info = check_feed(settings, progress=lambda s, d: steps.append((s, d)), image="group/project")
    said = dict(steps)
    assert (
        said["credentials"]
        == f"accepted by the token service: user '{DEPLOY_USER}' from env CI_DEPLOY_PASSWORD"
    )
    assert said["catalog"] == "not offered to this identity" and info.catalog_supported is False
    assert said["pull"] == "group/project: 3 tags"
    assert sorted(Registry(settings).list_tags("group/project")) == ["latest", "v1.0.0", "v1.1.0"]
    pin = resolve_image(settings, "group/project", VersionRule.build())
    assert (pin.tag, pin.digest) == ("v1.1.0", DIGEST)


def test_gitlab_deploy_token_search_says_the_catalog_is_not_available(deploy_token: str) -> None:
    use(gitlab(deploy_token, {}))
    settings = ConnectionSettings(f"https://{GITLAB}", credentials=SPEC)
    with pytest.raises(Unsupported) as e:
        search(settings, "project")
    message = str(e.value)
    assert message.startswith("catalog not available for these credentials")
    assert "deploy tokens (GitLab)" in message
    assert deploy_token not in message
