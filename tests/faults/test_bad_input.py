"""Bad input matrix: malformed inputs to both resources and the CLI.

Resources: every case runs the provider's `check` in-process and through a real
`pulumi preview`; the failure must name the property, and nothing may be written to state.
CLI: every case must exit non-zero with the reason on stderr (a `dockerfeed:` line or an
argparse usage error) without sending a single request (the feed is a recording sink).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from dockerfeed.resources.providers import DockerFeedProvider, ImageVersionProvider
from pulumi_dockerfeed import DockerFeed, FeedSettingsArgs, ImageVersion
from tests.faults.helpers import run_cli
from tests.support.faultproxy import FaultProxy
from tests.support.stack import resources, stack

pytestmark = pytest.mark.timeout(300)

SINK_FEED = "127.0.0.1:9"  # never contacted: check does no I/O

# (id, snake_case kwargs for the SDK, the property the failure must name)
FEED_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("scheme-ftp", {"feed_uri": "ftp://r.example.com"}, "feedUri"),
    ("scheme-file", {"feed_uri": "file:///etc/passwd"}, "feedUri"),
    ("empty-uri", {"feed_uri": ""}, "feedUri"),
    ("no-host", {"feed_uri": "https://"}, "feedUri"),
    ("userinfo", {"feed_uri": "https://u:p@r.example.com"}, "feedUri"),
    ("bad-port", {"feed_uri": "https://r.example.com:99999"}, "feedUri"),
    ("query", {"feed_uri": "https://r.example.com/?q=1"}, "feedUri"),
    ("fragment", {"feed_uri": "r.example.com#frag"}, "feedUri"),
    ("bad-host", {"feed_uri": "https://bad_host!.example"}, "feedUri"),
    ("js-uri", {"feed_uri": "javascript:alert(1)"}, "feedUri"),
    ("user-no-password", {"feed_uri": SINK_FEED, "username": "ci"}, "password"),
    ("password-no-user", {"feed_uri": SINK_FEED, "password": "pw-only"}, "username"),
    (
        "docker-config-and-creds",
        {"feed_uri": SINK_FEED, "use_docker_config": True, "username": "ci", "password": "pw"},
        "useDockerConfig",
    ),
    ("api-v3", {"feed_uri": SINK_FEED, "api_version": "v3"}, "apiVersion"),
    ("ca-not-pem", {"feed_uri": SINK_FEED, "ca_certificate": "not a certificate"}, "caCertificate"),
    ("registry-path-space", {"feed_uri": SINK_FEED, "registry_path": "has space"}, "registryPath"),
    ("registry-path-empty", {"feed_uri": SINK_FEED, "registry_path": ""}, "registryPath"),
    ("registry-path-dots", {"feed_uri": SINK_FEED, "registry_path": "r.example.com/../x"}, "registryPath"),
    ("scheme-typo", {"feed_uri": "http:/r.example.com"}, "feedUri"),
    ("path-dots", {"feed_uri": "https://r.example.com/a/%2e%2e/b"}, "feedUri"),
    ("username-colon", {"feed_uri": SINK_FEED, "username": "ci:admin", "password": "pw"}, "username"),
]

IMAGE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("image-empty", {"image": ""}, "image"),
    ("image-uppercase", {"image": "Demo/App"}, "image"),
    ("image-with-tag", {"image": "demo/app:1.0"}, "image"),
    ("image-with-digest", {"image": "demo/app@sha256:" + "a" * 64}, "image"),
    ("image-double-slash", {"image": "demo//app"}, "image"),
    ("image-space", {"image": "demo/ app"}, "image"),
    ("image-leading-dash", {"image": "-demo/app"}, "image"),
    ("image-too-long", {"image": "a" * 300}, "image"),
    ("range-unclosed", {"version_range": "[1.0"}, "versionRange"),
    ("range-inverted", {"version_range": "[2.0,1.0]"}, "versionRange"),
    ("range-empty", {"version_range": "(1.0,1.0)"}, "versionRange"),
    ("range-garbage", {"version_range": "^x.y"}, "versionRange"),
    ("range-no-brackets", {"version_range": "1.0,,2.0"}, "versionRange"),
    ("prerelease-regex", {"pre_release_tag": "(beta"}, "preReleaseTag"),
    ("include-regex", {"tag_include": "[a-"}, "tagInclude"),
    ("exclude-regex", {"tag_exclude": ["^ok$", "*bad"]}, "tagExclude"),
    ("strategy-unknown", {"strategy": "calver"}, "strategy"),
    ("variant-with-octopus", {"variant": "alpine"}, "variant"),
    ("variant-with-semver", {"strategy": "semver", "variant": "alpine"}, "variant"),
    ("numerical-with-range", {"strategy": "numerical", "version_range": "[1.0,2.0)"}, "versionRange"),
    ("platform-os-only", {"platform": "linux"}, "platform"),
    ("platform-uppercase", {"platform": "Linux/AMD64"}, "platform"),
    ("platform-four-parts", {"platform": "linux/amd64/v8/x"}, "platform"),
    ("platform-empty-parts", {"platform": "linux//"}, "platform"),
    ("feed-scheme", {"feed": {"feed_uri": "ftp://r.example.com"}}, "feed.feedUri"),
    ("feed-half-creds", {"feed": {"feed_uri": SINK_FEED, "username": "ci"}}, "feed.password"),
]

_CAMEL = {
    "feed_uri": "feedUri",
    "registry_path": "registryPath",
    "api_version": "apiVersion",
    "use_docker_config": "useDockerConfig",
    "ca_certificate": "caCertificate",
    "version_range": "versionRange",
    "pre_release_tag": "preReleaseTag",
    "tag_include": "tagInclude",
    "tag_exclude": "tagExclude",
}


def camel(kwargs: dict[str, Any]) -> dict[str, Any]:
    return {_CAMEL.get(k, k): camel(v) if isinstance(v, dict) else v for k, v in kwargs.items()}


def image_kwargs(case: dict[str, Any]) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"image": "demo/app", **case}
    kwargs["feed"] = FeedSettingsArgs(**kwargs.get("feed", {"feed_uri": SINK_FEED}))
    return kwargs


# ----------------------------------------------------------------- provider check (in-process)


@pytest.mark.parametrize(("kwargs", "prop"), [c[1:] for c in FEED_CASES], ids=[c[0] for c in FEED_CASES])
def test_feed_check_names_the_property(kwargs: dict[str, Any], prop: str) -> None:
    failures = DockerFeedProvider().check({}, camel(kwargs)).failures
    assert [f.property for f in failures] == [prop], failures


@pytest.mark.parametrize(("kwargs", "prop"), [c[1:] for c in IMAGE_CASES], ids=[c[0] for c in IMAGE_CASES])
def test_image_version_check_names_the_property(kwargs: dict[str, Any], prop: str) -> None:
    news = camel({"image": "demo/app", "feed": {"feed_uri": SINK_FEED}, **kwargs})
    failures = ImageVersionProvider().check({}, news).failures
    assert [f.property for f in failures] == [prop], failures


# ------------------------------------------------------------------------ real pulumi preview


@pytest.fixture(scope="module")
def preview_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[auto.Stack]:
    work = tmp_path_factory.mktemp("bad-input")
    st = stack(work, lambda: None, project="dockerfeed-bad-input")
    yield st


def preview_fails(st: auto.Stack, program: Callable[[], None]) -> str:
    st.workspace.program = program
    with pytest.raises(auto.CommandError) as failure:
        st.preview()
    assert resources(st) == []
    state = Path(st.workspace.work_dir) / "state"
    # No checkpoint anywhere in the backend names one of our resources.
    for p in state.rglob("*"):
        if p.is_file():
            assert b"dynamic/dockerfeed:" not in p.read_bytes(), p
    return str(failure.value)


# One real preview per kind of problem (each costs a Pulumi CLI run); `check` above covers all.
PREVIEWED = {
    "scheme-ftp",
    "userinfo",
    "bad-port",
    "bad-host",
    "user-no-password",
    "password-no-user",
    "docker-config-and-creds",
    "api-v3",
    "ca-not-pem",
    "registry-path-space",
    "scheme-typo",
    "username-colon",
    "image-empty",
    "image-uppercase",
    "image-with-tag",
    "range-unclosed",
    "range-inverted",
    "prerelease-regex",
    "exclude-regex",
    "strategy-unknown",
    "variant-with-octopus",
    "numerical-with-range",
    "platform-os-only",
    "feed-half-creds",
}
PREVIEW_CASES = [("feed", *c) for c in FEED_CASES if c[0] in PREVIEWED] + [
    ("image", *c) for c in IMAGE_CASES if c[0] in PREVIEWED
]


@pytest.mark.e2e
@pytest.mark.parametrize(
    ("kind", "kwargs", "prop"), [(c[0], c[2], c[3]) for c in PREVIEW_CASES], ids=[c[1] for c in PREVIEW_CASES]
)
def test_preview_fails_at_check_naming_the_property(
    preview_stack: auto.Stack, kind: str, kwargs: dict[str, Any], prop: str
) -> None:
    def program() -> None:
        if kind == "feed":
            DockerFeed("bad", **kwargs)
        else:
            ImageVersion("bad", **image_kwargs(kwargs))

    text = preview_fails(preview_stack, program)
    assert f"property {prop} value" in text or f"property {prop.split('.')[0]} value" in text, text[-2000:]
    assert "has a problem" in text
    for secret in ("pw-only",):
        # A password given without its user name is still a secret: not even the error shows it.
        assert secret not in text


# ------------------------------------------------------------------------------------ the CLI


@pytest.fixture(scope="module")
def sink() -> Iterator[FaultProxy]:
    with FaultProxy(None, lifetime=300) as s:
        yield s


def cli_cases(sink: str) -> list[tuple[str, list[str], int, str]]:
    """(id, argv, expected exit code, words the reason must contain)."""
    return [
        ("ftp-scheme", ["resolve", "ftp://r.example.com", "demo/app"], 2, "scheme 'ftp'"),
        ("file-scheme", ["tags", "file:///etc/passwd", "demo/app"], 2, "scheme 'file'"),
        ("scheme-typo", ["tags", f"http:/{sink}", "demo/app"], 2, "mistyped scheme"),
        ("path-dots", ["tags", f"http://{sink}/a/../b", "demo/app"], 2, "'..' segment"),
        ("userinfo", ["tags", "https://u:p@r.example.com", "demo/app"], 2, "user info"),
        ("bad-port", ["test", "https://r.example.com:99999"], 2, "invalid port"),
        ("empty-feed", ["test", ""], 2, "feedUri is empty"),
        ("no-host", ["test", "https://"], 2, "no host name"),
        ("image-uppercase", ["resolve", sink, "Demo/App"], 2, "lowercase"),
        ("image-empty", ["resolve", sink, ""], 2, "image is empty"),
        ("image-tag", ["tags", sink, "demo/app:1.0"], 2, "contains a tag"),
        ("image-host", ["tags", sink, f"{sink}/demo/app"], 2, "starts with the registry host"),
        ("range", ["resolve", sink, "demo/app", "--range", "[1.0"], 2, "[1.0"),
        ("range-inverted", ["resolve", sink, "demo/app", "--range", "[2.0,1.0]"], 2, "empty"),
        ("prerelease-regex", ["resolve", sink, "demo/app", "--prerelease", "(beta"], 2, "regular expression"),
        ("include-regex", ["resolve", sink, "demo/app", "--include", "[a-"], 2, "regular expression"),
        ("exclude-regex", ["resolve", sink, "demo/app", "--exclude", "*bad"], 2, "regular expression"),
        ("strategy", ["resolve", sink, "demo/app", "--strategy", "calver"], 2, "invalid choice"),
        ("variant-octopus", ["resolve", sink, "demo/app", "--variant", "alpine"], 2, "variant"),
        (
            "numerical-range",
            ["resolve", sink, "demo/app", "--strategy", "numerical", "--range", "[1.0,2.0)"],
            2,
            "range",
        ),
        ("platform", ["resolve", sink, "demo/app", "--platform", "linux"], 2, "os/arch"),
        ("platform-case", ["resolve", sink, "demo/app", "--platform", "Linux/AMD64"], 2, "os/arch"),
        ("half-creds", ["resolve", sink, "demo/app", "-u", "ci"], 2, "half of the credentials"),
        ("api-version", ["test", sink, "--api-version", "v3"], 2, "invalid choice"),
        ("pick-range", ["pick", "1.0", "2.0", "--range", "(,]"], 2, "dockerfeed: versionRange"),
        ("pick-regex", ["pick", "1.0", "--prerelease", "("], 2, "regular expression"),
        ("no-command", [], 2, "required"),
    ]


def test_cli_bad_input_fails_with_the_reason_and_sends_nothing(
    capsys: pytest.CaptureFixture[str], sink: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DOCKERFEED_PASSWORD", raising=False)
    problems = []
    cases = cli_cases(sink.host)
    for name, argv, code, reason in cases:
        run = run_cli(capsys, argv)
        if run.crash or run.rc != code or reason not in run.err or "Traceback" in run.err:
            problems.append(f"{name}: rc={run.rc} err={run.err.strip()[-200:]!r} crash={run.crash[:200]!r}")
    assert problems == []
    assert sink.log == []  # no bad input reached the network
    assert len(cases) >= 20


def test_cli_missing_ca_certificate_file_is_a_clean_error(
    capsys: pytest.CaptureFixture[str], sink: FaultProxy, tmp_path: Path
) -> None:
    missing = tmp_path / f"nope-{secrets.token_hex(3)}.pem"
    run = run_cli(capsys, ["test", sink.host, "--ca-certificate", str(missing)])
    assert run.crash == "", run.crash
    assert run.rc == 2 and str(missing) in run.err


def test_cli_empty_password_on_stdin_is_half_credentials(
    capsys: pytest.CaptureFixture[str], sink: FaultProxy, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    run = run_cli(capsys, ["tags", sink.host, "demo/app", "-u", "ci", "--password-stdin"])
    assert run.rc == 2 and "password is missing" in run.err, run.text
    assert sink.log == []


def test_matrix_size() -> None:
    # The issue asks for at least 30 malformed inputs across both resources and the CLI.
    assert len(FEED_CASES) + len(IMAGE_CASES) + len(cli_cases("x")) + 2 >= 30
