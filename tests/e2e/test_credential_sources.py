"""Credential sources through the real Pulumi CLI: the token a registry accepts rotates between
`pulumi up` and `pulumi refresh` (issue 14).

With a source, the refresh asks it again (a new provider process, a new token) and passes; with
the password frozen into the state at `up`, the refresh fails, and the message names the source
to give instead. Every source: env, docker, aws (moto's ECR), gcp (a local token endpoint) and
azure (a managed-identity endpoint, and ACR's exchange answered in front of a real registry).
No token, key or password of any source appears in the exported state, the state files or the
CLI's output.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_dockerfeed import DockerFeed, ImageVersion
from tests.support import images
from tests.support.cloud import AWS_ACCOUNT, AWS_REGION, AzureManagedIdentity, GoogleTokenEndpoint, MotoECR
from tests.support.faultproxy import Action, FaultProxy, Reply
from tests.support.faultproxy import Request as ProxyRequest
from tests.support.servers import RegistryServer
from tests.support.stack import pulumi_bin, raw_export, stack
from tests.support.tokenserver import Grant, TokenServer

pytestmark = pytest.mark.e2e
REPO = "demo/app"
GRANTS = (Grant("admin", "*", ("*",)), Grant("*", "demo/*", ("pull",)))


@dataclass
class Rotating:
    """A registry behind a token server whose accepted password for `user` is `users[user]`."""

    registry: RegistryServer
    users: dict[str, str]
    user: str
    seen: list[str] = field(default_factory=list)  # every secret the test handed out: none may leak

    def accept(self, password: str) -> None:
        self.users[self.user] = password
        self.seen.append(password)


@pytest.fixture
def rotating(start_registry: Callable[..., RegistryServer]) -> Callable[[str, str], Rotating]:
    def make(user: str, first: str) -> Rotating:
        users = {user: first, "admin": "admin-" + secrets.token_urlsafe(12)}
        ts = TokenServer(users=users, grants=GRANTS)
        reg = start_registry("v2", auth="token", users=users, token_server=ts, pusher="admin")
        images.seed_tags(reg.url, REPO, ["1.0.0", "1.1.0"], auth=reg.push_credentials)
        return Rotating(reg, users, user, [first])

    return make


def program(
    feed_uri: str, credentials: dict[str, Any] | None, username: str | None = None
) -> Callable[[], None]:
    def run() -> None:
        config = pulumi.Config()
        feed = DockerFeed(
            "feed",
            feed_uri=feed_uri,
            credentials=credentials,
            username=username,
            password=config.get_secret("password") if username else None,
        )
        app = ImageVersion("app", feed=feed, image=REPO)
        pulumi.export("tag", app.tag)

    return run


def up_then_refresh(
    work: Path,
    reg: Rotating,
    rotate: Callable[[], None],
    credentials: dict[str, Any] | None,
    env: dict[str, str],
    frozen: str | None = None,
) -> tuple[auto.Stack, str, list[str]]:
    """`up`, rotate, `refresh`: the refresh's outcome ('passed' or the CLI's error text), and
    everything the CLI printed (for the audit)."""
    st = stack(
        work,
        program(reg.registry.host, credentials, username=reg.user if frozen else None),
        project="dockerfeed-credentials",
        secrets={"password": frozen} if frozen else None,
        env=env,
    )
    up = st.up()
    texts = [up.stdout, up.stderr]
    assert up.outputs["tag"].value == "1.1.0"
    rotate()
    try:
        refreshed = st.refresh()
    except auto.CommandError as failure:
        texts.append(str(failure))
        return st, str(failure), texts
    texts += [refreshed.stdout, refreshed.stderr]
    assert refreshed.summary.resource_changes == {"same": 3}
    return st, "passed", texts


def assert_nothing_leaked(st: auto.Stack, work: Path, secrets_seen: list[str], texts: list[str]) -> None:
    """The secrets audit, as tests/faults/test_pulumi_faults.py does it for passwords and registry
    tokens, for every secret a source handed out: `pulumi stack export`, every file under the
    stack's directory (state, backups, PULUMI_HOME) and everything the CLI printed."""
    exported = raw_export(st)
    assert '"__provider"' in exported  # we looked at the real thing
    places: dict[str, bytes] = {"pulumi stack export": exported.encode()}
    for path in work.rglob("*"):
        if path.is_file() and path.stat().st_size < 50 * 1024 * 1024:
            places[str(path.relative_to(work))] = path.read_bytes()
    for i, text in enumerate(texts):
        places[f"output/error #{i}"] = text.encode()
    hits = [
        (where, n) for where, data in places.items() for n, s in enumerate(secrets_seen) if s.encode() in data
    ]
    assert hits == [], f"secrets found in: {hits}"
    assert len(places) > len(texts) + 1


def write_key(where: Path, endpoint: GoogleTokenEndpoint) -> Path:
    """The service-account key, outside the stack's directory (the audit reads all of that)."""
    keys = where / "keys"
    keys.mkdir(exist_ok=True)
    key = keys / "sa-key.json"
    key.write_text(json.dumps(endpoint.service_account_key()))
    return key


def feed_state(st: auto.Stack) -> dict[str, Any]:
    for res in st.export_stack().deployment["resources"]:
        if res["urn"].endswith("::feed"):
            return dict(res["outputs"])
    raise AssertionError("no feed in the state")


# --- env ----------------------------------------------------------------------------------------


def test_env_source_survives_a_rotated_token(
    rotating: Callable[[str, str], Rotating], tmp_path: Path
) -> None:
    first = "ghs_" + secrets.token_urlsafe(16)
    reg = rotating("ci", first)
    env = {"DF_REGISTRY_TOKEN": first}
    credentials = {"source": "env", "variable": "DF_REGISTRY_TOKEN", "username": "ci"}
    holder: dict[str, auto.Stack] = {}

    def rotate() -> None:
        second = "ghs_" + secrets.token_urlsafe(16)
        reg.accept(second)
        # The next CI job exports its own token: the provider process reads it at the refresh.
        holder["st"].workspace.env_vars["DF_REGISTRY_TOKEN"] = second

    st = stack(tmp_path, program(reg.registry.host, credentials), project="dockerfeed-credentials", env=env)
    holder["st"] = st
    up = st.up()
    assert up.outputs["tag"].value == "1.1.0"
    rotate()
    refreshed = st.refresh()
    assert refreshed.summary.resource_changes == {"same": 3}
    state = feed_state(st)
    assert state["credentials"] == credentials and "password" not in state
    texts = [up.stdout, up.stderr, refreshed.stdout, refreshed.stderr]
    assert_nothing_leaked(st, tmp_path, reg.seen, texts)


def test_env_frozen_password_fails_the_refresh_and_names_the_source(
    rotating: Callable[[str, str], Rotating], tmp_path: Path
) -> None:
    first = "ghs_" + secrets.token_urlsafe(16)
    reg = rotating("ci", first)
    st, outcome, texts = up_then_refresh(
        tmp_path, reg, lambda: reg.accept("ghs_" + secrets.token_urlsafe(16)), None, {}, frozen=first
    )
    assert outcome != "passed"
    assert "password stored in the state by the last `pulumi up`" in outcome
    assert "credentials: {source: env, variable: <NAME>, username: <user>}" in outcome
    assert_nothing_leaked(st, tmp_path, reg.seen, texts)


# --- AWS (moto's ECR) ---------------------------------------------------------------------------


@pytest.fixture
def moto() -> Iterator[MotoECR]:
    pytest.importorskip("moto.server", reason="moto[server] is part of the test extra")
    with MotoECR() as server:
        yield server


def test_aws_source_survives_a_rotated_ecr_token(
    moto: MotoECR, rotating: Callable[[str, str], Rotating], tmp_path: Path
) -> None:
    reg = rotating("AWS", moto.password())
    credentials = {"source": "aws", "registryId": AWS_ACCOUNT, "region": AWS_REGION}
    st, outcome, texts = up_then_refresh(
        tmp_path, reg, lambda: reg.accept(moto.rotate()), credentials, moto.env
    )
    assert outcome == "passed"
    assert_nothing_leaked(st, tmp_path, reg.seen, texts)


def test_aws_frozen_ecr_token_fails_the_refresh_and_names_the_aws_source(
    moto: MotoECR, rotating: Callable[[str, str], Rotating], tmp_path: Path
) -> None:
    frozen = moto.password()
    reg = rotating("AWS", frozen)
    st, outcome, texts = up_then_refresh(
        tmp_path, reg, lambda: reg.accept(moto.rotate()), None, moto.env, frozen=frozen
    )
    assert "password stored in the state" in outcome and "credentials: {source: aws}" in outcome
    assert_nothing_leaked(st, tmp_path, reg.seen, texts)


# --- Google (a local token endpoint that verifies google-auth's assertion) -----------------------


@pytest.fixture
def google() -> Iterator[GoogleTokenEndpoint]:
    pytest.importorskip("google.auth", reason="google-auth is part of the test extra")
    endpoint = GoogleTokenEndpoint()
    yield endpoint
    endpoint.stop()


def test_gcp_source_survives_the_next_access_token(
    google: GoogleTokenEndpoint, rotating: Callable[[str, str], Rotating], tmp_path: Path
) -> None:
    reg = rotating("oauth2accesstoken", "none-issued-yet")
    google.on_issue = reg.accept  # the registry accepts the newest token only
    key = write_key(tmp_path, google)
    credentials = {"source": "gcp", "keyFile": str(key)}
    st, outcome, texts = up_then_refresh(tmp_path / "work", reg, lambda: None, credentials, {})
    assert outcome == "passed"
    # Every process asked the endpoint for its own token: the refresh did not reuse up's.
    assert google.issued >= 2
    private_key = google.service_account_key()["private_key"].splitlines()[5]
    assert_nothing_leaked(st, tmp_path / "work", [*reg.seen, private_key], texts)


def test_gcp_frozen_access_token_fails_the_refresh_and_names_the_gcp_source(
    google: GoogleTokenEndpoint, rotating: Callable[[str, str], Rotating], tmp_path: Path
) -> None:
    from dockerfeed.sources import CredentialSpec, RegistryHost, SourceCache
    from dockerfeed.sources import resolve as resolve_source

    reg = rotating("oauth2accesstoken", "none-issued-yet")
    google.on_issue = reg.accept
    key = write_key(tmp_path, google)

    def fresh_token() -> str:
        spec = CredentialSpec("gcp", key_file=str(key))
        return resolve_source(spec, RegistryHost("http://x", "x"), cache=SourceCache()).secret

    frozen = fresh_token()  # what `gcloud auth print-access-token` gave the program at `up`
    st, outcome, texts = up_then_refresh(tmp_path / "work", reg, fresh_token, None, {}, frozen=frozen)
    assert "password stored in the state" in outcome and "credentials: {source: gcp}" in outcome
    assert_nothing_leaked(st, tmp_path / "work", reg.seen, texts)


# --- Docker config and its credential helpers ---------------------------------------------------

HELPER = """#!{python}
import json, sys
store = json.load(open({store!r}))
server = sys.stdin.read().strip()
if server not in store:
    print("credentials not found in native keychain")
    sys.exit(1)
json.dump({{"ServerURL": server, "Username": store[server][0], "Secret": store[server][1]}}, sys.stdout)
"""


def test_docker_source_asks_the_helper_again_at_the_refresh(
    rotating: Callable[[str, str], Rotating], tmp_path: Path
) -> None:
    first = "pw-" + secrets.token_urlsafe(12)
    reg = rotating("ci", first)
    bin_dir, docker_dir = tmp_path / "bin", tmp_path / "docker"
    bin_dir.mkdir()
    docker_dir.mkdir()
    store = bin_dir / "store.json"
    store.write_text(json.dumps({reg.registry.host: ["ci", first]}))
    helper = bin_dir / "docker-credential-rotating"
    helper.write_text(HELPER.format(python=sys.executable, store=str(store)))
    helper.chmod(0o755)
    (docker_dir / "config.json").write_text(json.dumps({"credHelpers": {reg.registry.host: "rotating"}}))
    path = os.pathsep.join(
        [str(bin_dir), str(pulumi_bin()), str(Path(sys.executable).parent), os.environ["PATH"]]
    )
    env = {"DOCKER_CONFIG": str(docker_dir), "PATH": path}

    def rotate() -> None:
        second = "pw-" + secrets.token_urlsafe(12)
        reg.accept(second)
        store.write_text(json.dumps({reg.registry.host: ["ci", second]}))  # `docker login` again

    st, outcome, texts = up_then_refresh(tmp_path / "work", reg, rotate, {"source": "docker"}, env)
    assert outcome == "passed"
    assert_nothing_leaked(st, tmp_path / "work", reg.seen, texts)


# --- Azure (ACR's exchange, recorded, in front of a real registry) -------------------------------

ACR_USER = "00000000-0000-0000-0000-000000000000"  # the user ACR expects beside a refresh token


class ACRTokenServer(TokenServer):
    """The token service as ACR runs it: refresh tokens from /oauth2/exchange, taken by the
    OAuth2 refresh-token grant or as the Basic password of the user 0000…0000."""

    def authenticate(self, username: str | None, password: str | None) -> str | None:
        if username == ACR_USER:
            return self._subject_for_refresh(password)
        return super().authenticate(username, password)

    def issue_refresh_token(self, subject: str) -> str:
        token = "acr-rt-" + secrets.token_urlsafe(24)
        with self._lock:
            self._refresh_tokens[token] = subject
        return token

    def revoke_refresh_tokens(self) -> None:
        with self._lock:
            self._refresh_tokens.clear()


class ACRExchange(Action):
    """ACR's POST /oauth2/exchange (recorded behaviour, docs/credentials.md), answered in front of
    the registry: an Azure AD token the identity endpoint issued buys a refresh token."""

    name = "acr exchange"
    forwards = False

    def __init__(self, ts: ACRTokenServer, identity: AzureManagedIdentity, subject: str) -> None:
        self.ts, self.identity, self.subject = ts, identity, subject
        self.refresh_tokens: list[str] = []

    def before(self, proxy: FaultProxy, request: ProxyRequest) -> Reply | None:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        if form.get("grant_type") != "access_token" or form.get("access_token") not in self.identity.tokens:
            return Reply(401, [("Content-Type", "application/json")], b'{"errors":[{"code":"UNAUTHORIZED"}]}')
        token = self.ts.issue_refresh_token(self.subject)
        self.refresh_tokens.append(token)
        return Reply(
            200, [("Content-Type", "application/json")], json.dumps({"refresh_token": token}).encode()
        )


@pytest.fixture
def acr(
    start_registry: Callable[..., RegistryServer],
) -> Iterator[tuple[FaultProxy, ACRTokenServer, ACRExchange, AzureManagedIdentity]]:
    pytest.importorskip("azure.identity", reason="azure-identity is part of the test extra")
    users = {"admin": "admin-" + secrets.token_urlsafe(12)}
    ts = ACRTokenServer(users=users, grants=(*GRANTS, Grant("acr-pull", "demo/*", ("pull",))))
    reg = start_registry("v2", auth="token", users=users, token_server=ts, pusher="admin")
    images.seed_tags(reg.url, REPO, ["1.0.0", "1.1.0"], auth=reg.push_credentials)
    identity = AzureManagedIdentity()
    exchange = ACRExchange(ts, identity, "acr-pull")
    base = f"http://127.0.0.1:{ts.port}"
    with FaultProxy(reg.url, token_upstream=base, token_prefix="/token", lifetime=600) as proxy:
        proxy.add("POST", r"^/oauth2/exchange", exchange, times=1_000)
        yield proxy, ts, exchange, identity
    identity.stop()


def test_acr_azure_source_survives_revoked_refresh_tokens(acr: Any, tmp_path: Path) -> None:
    proxy, ts, exchange, identity = acr
    st = stack(
        tmp_path,
        program(proxy.host, {"source": "azure"}),
        project="dockerfeed-credentials",
        env=identity.env,
    )
    up = st.up()
    assert up.outputs["tag"].value == "1.1.0"
    ts.revoke_refresh_tokens()  # ACR's refresh tokens last hours; the next day's are new ones
    refreshed = st.refresh()
    assert refreshed.summary.resource_changes == {"same": 3}
    assert len(exchange.refresh_tokens) >= 2  # the refresh exchanged again, in its own process
    seen = [*exchange.refresh_tokens, *identity.tokens, identity.header_secret]
    assert_nothing_leaked(st, tmp_path, seen, [up.stdout, up.stderr, refreshed.stdout, refreshed.stderr])


def test_acr_frozen_refresh_token_fails_the_refresh_and_names_the_azure_source(
    acr: Any, tmp_path: Path
) -> None:
    proxy, ts, _exchange, _identity = acr
    frozen = ts.issue_refresh_token("acr-pull")  # what `az acr login --expose-token` printed at up
    st = stack(
        tmp_path,
        program(proxy.host, None, username=ACR_USER),
        project="dockerfeed-credentials",
        secrets={"password": frozen},
    )
    up = st.up()
    assert up.outputs["tag"].value == "1.1.0"
    ts.revoke_refresh_tokens()
    with pytest.raises(auto.CommandError) as failure:
        st.refresh()
    outcome = str(failure.value)
    assert "password stored in the state" in outcome and "credentials: {source: azure}" in outcome
    assert_nothing_leaked(st, tmp_path, [frozen], [up.stdout, up.stderr, outcome])
