"""Credential sources without a server: the spec, the cache by real expiry, env, the extras."""

from __future__ import annotations

import sys

import pytest

from dockerfeed import sources
from dockerfeed.sources import (
    CredentialSpec,
    MissingExtra,
    RegistryHost,
    Resolved,
    SourceCache,
    SourceConfigError,
    SourceError,
    parse_cli,
)
from dockerfeed.sources.aws import parse_ecr_host

HOST = RegistryHost("https://registry.example.com", "registry.example.com")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


# --- the spec -----------------------------------------------------------------------------------


def test_spec_round_trips_its_camel_case_props() -> None:
    props = {"source": "aws", "profile": "ci", "region": "eu-west-1", "registryId": "123456789012"}
    spec = CredentialSpec.parse(props)
    assert spec.as_props() == props
    assert CredentialSpec.parse({"source": "gcp", "jsonKey": True}).json_key is True
    assert hash(spec) == hash(CredentialSpec.parse(dict(props)))  # it keys the cache


@pytest.mark.parametrize(
    ("props", "message"),
    [
        ({}, "credentials.source is missing"),
        ({"source": "vault"}, "'vault' is not one of env, docker, aws, gcp, azure"),
        ({"source": "env", "username": "ci"}, "credentials.variable is missing"),
        ({"source": "env", "variable": "TOKEN"}, "credentials.username is missing"),
        ({"source": "env", "variable": "MY-TOKEN", "username": "ci"}, "not an environment variable name"),
        ({"source": "env", "variable": "T", "username": "a:b"}, "contains ':'"),
        ({"source": "env", "variable": "T", "profile": "x"}, "credentials.profile belongs to source 'aws'"),
        ({"source": "aws", "roleArn": "ci-role"}, "is not an IAM role ARN"),
        ({"source": "aws", "registryId": "12"}, "is not a 12-digit AWS account id"),
        ({"source": "docker", "password": "x"}, "unknown setting 'password'"),
        ({"source": "gcp", "jsonKey": "yes"}, "must be true or false"),
    ],
)
def test_spec_problems_name_the_setting(props: dict[str, object], message: str) -> None:
    with pytest.raises(SourceConfigError) as e:
        CredentialSpec.parse(props)
    assert message in str(e.value)


def test_spec_settings_are_the_schema_s() -> None:
    from dataclasses import fields

    from dockerfeed.contract import CREDENTIALS_FIELDS
    from dockerfeed.sources.spec import SOURCE_FIELDS, _camel

    assert tuple(_camel(f.name) for f in fields(CredentialSpec)) == CREDENTIALS_FIELDS
    assert {k for ks in SOURCE_FIELDS.values() for k in ks} == set(CREDENTIALS_FIELDS) - {"source"}


def test_cli_form() -> None:
    spec = parse_cli("env,variable=GITHUB_TOKEN,username=octocat")
    assert (spec.source, spec.variable, spec.username) == ("env", "GITHUB_TOKEN", "octocat")
    assert parse_cli("gcp,jsonKey=true,keyFile=/k.json").json_key is True
    assert parse_cli("docker") == CredentialSpec("docker")
    with pytest.raises(SourceConfigError, match="is not key=value"):
        parse_cli("aws,profile")


# --- the cache ----------------------------------------------------------------------------------


def test_cache_keeps_an_answer_until_shortly_before_its_real_expiry() -> None:
    clock = Clock()
    cache = SourceCache(clock)
    asked: list[int] = []

    def ask() -> Resolved:
        asked.append(1)
        return Resolved("AWS", f"token-{len(asked)}", "aws", expires_at=clock.now + 12 * 3600)

    key = (CredentialSpec("aws"), HOST.base_url)
    assert cache.get(key, ask).secret == "token-1"
    clock.now += 11 * 3600
    assert cache.get(key, ask).secret == "token-1"
    # Past expiry minus the margin (5 min for a 12 h token): renewed in the middle of the run.
    clock.now += 3600 - 200
    assert cache.get(key, ask).secret == "token-2"
    assert len(asked) == 2


def test_cache_never_keeps_an_expired_answer_nor_the_environment() -> None:
    clock = Clock()
    cache = SourceCache(clock)
    key = (CredentialSpec("aws"), HOST.base_url)
    expired = Resolved("AWS", "old", "aws", expires_at=clock.now - 1)
    assert cache.get(key, lambda: expired) is expired
    fresh = Resolved("AWS", "new", "aws", expires_at=clock.now + 3600)
    assert cache.get(key, lambda: fresh) is fresh  # the expired one was not kept
    env_key = (CredentialSpec("env", variable="T", username="u"), HOST.base_url)
    first = Resolved("u", "a", "env T", ttl=0.0)
    second = Resolved("u", "b", "env T", ttl=0.0)
    assert cache.get(env_key, lambda: first) is first
    assert cache.get(env_key, lambda: second) is second


def test_cache_without_expiry_uses_the_run_ttl_and_forget_drops() -> None:
    clock = Clock()
    cache = SourceCache(clock)
    key = (CredentialSpec("docker"), HOST.base_url)
    answers = iter([Resolved("ci", "a", "docker-credential-x"), Resolved("ci", "b", "docker-credential-x")])
    assert cache.get(key, lambda: next(answers)).secret == "a"
    clock.now += 60
    assert cache.get(key, lambda: next(answers)).secret == "a"
    cache.forget(key)
    assert cache.get(key, lambda: next(answers)).secret == "b"


def test_resolved_never_shows_its_secret() -> None:
    answer = Resolved("ci", "s3cr3t-value", "env TOKEN", expires_at=1_800_000_000.0)
    assert "s3cr3t-value" not in repr(answer)
    assert "s3cr3t-value" not in answer.describe()
    assert "valid until 2027-01-15" in answer.describe()


# --- env ----------------------------------------------------------------------------------------


def test_env_source_reads_the_variable_at_every_use(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = CredentialSpec.parse({"source": "env", "variable": "DF_TOKEN", "username": "ci"})
    cache = SourceCache()
    monkeypatch.setenv("DF_TOKEN", "first")
    assert sources.resolve(spec, HOST, cache=cache).secret == "first"
    monkeypatch.setenv("DF_TOKEN", "second")
    answer = sources.resolve(spec, HOST, cache=cache)
    assert (answer.username, answer.secret, answer.source) == ("ci", "second", "env DF_TOKEN")


def test_env_source_user_name_from_a_variable_and_missing_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = CredentialSpec.parse({"source": "env", "variable": "DF_TOKEN", "usernameVariable": "DF_USER"})
    monkeypatch.setenv("DF_TOKEN", "t")
    monkeypatch.delenv("DF_USER", raising=False)
    with pytest.raises(SourceError, match="DF_USER"):
        sources.resolve(spec, HOST, cache=SourceCache())
    monkeypatch.setenv("DF_USER", "deployer")
    assert sources.resolve(spec, HOST, cache=SourceCache()).username == "deployer"
    monkeypatch.delenv("DF_TOKEN")
    with pytest.raises(SourceError) as e:
        sources.resolve(spec, HOST, cache=SourceCache())
    assert "DF_TOKEN is not set in the process running the provider" in str(e.value)


# --- the cloud extras ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "blocked", "extra"),
    [
        (CredentialSpec("aws", registry_id="123456789012", region="eu-west-1"), "boto3", "aws"),
        (CredentialSpec("gcp"), "google.auth", "gcp"),
        (CredentialSpec("azure"), "azure.identity", "azure"),
    ],
)
def test_without_the_extra_the_error_names_it(
    spec: CredentialSpec, blocked: str, extra: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, blocked, None)  # what `import` sees when it is not installed
    with pytest.raises(MissingExtra) as e:
        sources.resolve(spec, HOST, cache=SourceCache())
    assert f"pip install 'pulumi-dockerfeed[{extra}]'" in str(e.value)


def test_the_core_imports_no_cloud_library() -> None:
    import subprocess

    code = (
        "import sys, dockerfeed.sources, dockerfeed.sources.aws, dockerfeed.sources.gcp, "
        "dockerfeed.sources.azure, dockerfeed.lifecycle, dockerfeed.resolve\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'google', 'azure')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- which source for which registry ------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", ("123456789012", "eu-west-1")),
        ("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", ("123456789012", "us-gov-west-1")),
        ("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", ("123456789012", "cn-north-1")),
        ("123456789012.dkr-ecr.ap-southeast-2.on.aws", ("123456789012", "ap-southeast-2")),
        ("public.ecr.aws", None),
        ("12345.dkr.ecr.eu-west-1.amazonaws.com", None),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.example", None),
    ],
)
def test_ecr_account_and_region_from_the_host(host: str, expected: tuple[str, str] | None) -> None:
    assert parse_ecr_host(host) == expected


def test_aws_source_on_another_host_asks_for_the_account_and_region() -> None:
    with pytest.raises(SourceError) as e:
        sources.resolve(CredentialSpec("aws"), HOST, cache=SourceCache())
    assert "give credentials.registryId and region" in str(e.value)


@pytest.mark.parametrize(
    ("host", "source"),
    [
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "{source: aws}"),
        ("europe-west1-docker.pkg.dev", "{source: gcp}"),
        ("gcr.io", "{source: gcp}"),
        ("myreg.azurecr.io", "{source: azure}"),
        ("ghcr.io", "variable: GITHUB_TOKEN"),
        ("registry.example.com", "{source: env"),
    ],
)
def test_suggested_source_per_registry(host: str, source: str) -> None:
    assert source in sources.suggest(host)


def test_suggested_source_by_the_user_a_cloud_token_goes_with() -> None:
    assert "{source: aws}" in sources.suggest("127.0.0.1", "AWS")
    assert "{source: gcp}" in sources.suggest("127.0.0.1", "oauth2accesstoken")
    assert "{source: azure}" in sources.suggest("127.0.0.1", "00000000-0000-0000-0000-000000000000")
    assert "{source: env" in sources.suggest("127.0.0.1", "ci")


def test_a_refresh_refused_with_a_frozen_password_names_the_source() -> None:
    from dockerfeed.lifecycle.frozen import frozen_password_hint
    from dockerfeed.registry import BadCredentials, Unreachable

    refused = BadCredentials("GET https://x/v2/ answered 401 for user 'AWS' from settings")
    feed = {"feedUri": "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "username": "AWS", "password": "p"}
    hint = frozen_password_hint(feed, refused)
    assert "password stored in the state" in hint and "credentials: {source: aws}" in hint
    assert frozen_password_hint(feed, Unreachable("GET https://x/v2/ could not connect")) == ""
    with_source = {"feedUri": "ghcr.io", "credentials": {"source": "env", "variable": "T", "username": "u"}}
    assert frozen_password_hint(with_source, refused) == ""


def test_feed_inputs_check_the_credentials_per_property() -> None:
    from dockerfeed.lifecycle.models import FeedInputs, ImageVersionInputs, check_failures

    assert check_failures(FeedInputs, {"feedUri": "r.example.com", "credentials": {"source": "aws"}}) == []
    assert check_failures(FeedInputs, {"feedUri": "r.example.com", "credentials": {"source": "env"}}) == [
        (
            "credentials",
            "variable is missing: name the environment variable that holds the password or "
            "token (e.g. GITHUB_TOKEN)",
        )
    ]
    both = {"feedUri": "r.example.com", "credentials": {"source": "docker"}, "useDockerConfig": True}
    assert [p for p, _ in check_failures(FeedInputs, both)] == ["credentials"]
    nested = {
        "image": "a/b",
        "feed": {"feedUri": "r.example.com", "credentials": {"source": "gcp", "roleArn": "x"}},
    }
    [(prop, reason)] = check_failures(ImageVersionInputs, nested)
    assert prop == "feed.credentials" and "belongs to source 'aws'" in reason
    spec = FeedInputs.model_validate(
        {"feedUri": "r.example.com", "credentials": {"source": "aws"}}
    ).settings()
    assert spec.credentials == CredentialSpec("aws")


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--credentials", "vault"], "--credentials: credentials.source 'vault' is not one of"),
        (["--credentials", "aws", "--docker-config"], "--credentials and --docker-config both say"),
        (["--credentials", "env,variable=DF_NOT_SET_ANYWHERE,username=ci"], "DF_NOT_SET_ANYWHERE is not set"),
        (["--credentials", "aws"], "127.0.0.1:1 is not an ECR host"),
    ],
)
def test_cli_credentials_that_cannot_be_used_exit_2(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from dockerfeed import cli

    monkeypatch.delenv("DF_NOT_SET_ANYWHERE", raising=False)
    assert cli.main(["test", "127.0.0.1:1", *argv]) == 2
    assert said in capsys.readouterr().err
