"""The edges of the `dockerfeed` command, run as a user runs it: the installed console script in
a subprocess, against the real token-auth registry of this suite (behind a FaultProxy where an
answer has to be bent), a plain htpasswd registry and a TLS registry.

Each case is one that crashed with a traceback, was accepted silently, or sent the user the
wrong way (issue 11, points 6 to 10). Every failure must exit with the documented code (0 ok,
1 registry or resolve failure, 2 the command line cannot be used) with one `dockerfeed:` line,
or with `--json` one JSON error object on stdout and nothing else; never a traceback, never a
secret.
"""

from __future__ import annotations

import json
import os
import secrets
import ssl
import subprocess
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import APP, APP_STABLE, Seeded
from tests.support import find_tool, free_port
from tests.support.faultproxy import FaultProxy, rewrite_body, set_headers
from tests.support.servers import RegistryServer
from tests.support.tokenserver import make_ca, make_leaf

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

DOCKERFEED = Path(sys.executable).parent / "dockerfeed"
TAGS = r"^/v2/demo/app/tags/list"


@dataclass
class Run:
    rc: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """An empty HOME and DOCKER_CONFIG, so no real Docker config is ever read."""
    (tmp_path / "home").mkdir()
    (tmp_path / "docker").mkdir()
    (tmp_path / "bin").mkdir()
    return tmp_path


def dockerfeed(
    home: Path,
    *argv: str,
    stdin: bytes = b"",
    env: dict[str, str] | None = None,
    stdout: int | None = None,
) -> Run:
    """`dockerfeed ARGV` in a subprocess with a clean environment (no proxies, no DOCKERFEED_*)."""
    clean = {
        "PATH": os.pathsep.join([str(home / "bin"), os.environ.get("PATH", "/usr/bin:/bin")]),
        "HOME": str(home / "home"),
        "DOCKER_CONFIG": str(home / "docker"),
        "LANG": "C.UTF-8",
        **(env or {}),
    }
    done = subprocess.run(
        [str(DOCKERFEED), *argv],
        input=stdin,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        env=clean,
        timeout=120,
        check=False,
    )
    out = done.stdout.decode("utf-8", "replace") if done.stdout is not None else ""
    return Run(done.returncode, out, done.stderr.decode("utf-8", "replace"))


def assert_fails(run: Run, code: int, *parts: str, absent: Sequence[str] = ()) -> None:
    """Exit `code`, one `dockerfeed:` reason on stderr naming every part, nothing on stdout."""
    assert "Traceback" not in run.text, run.text
    assert run.rc == code, f"exit {run.rc}, expected {code}: {run.text}"
    assert run.out == "", run.out
    reason = [line for line in run.err.splitlines() if line.startswith("dockerfeed: ")]
    assert len(reason) == 1, run.err
    for part in parts:
        assert part in run.err, f"{part!r} not in: {run.err}"
    for part in absent:
        assert part not in run.err, f"{part!r} in: {run.err}"


def login(seeded: Seeded) -> bytes:
    return f"{seeded.password}\n".encode()


@pytest.fixture
def sink() -> Iterator[FaultProxy]:
    """A host that records what reaches it: input that must be refused never gets there."""
    with FaultProxy(None, lifetime=120) as s:
        yield s


# --------------------------------------------------------------- 6. no traceback, ever


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"auths": {"HOST": "xyz"}}, "the 'auths' entry"),
        ([], "JSON array, not an object"),
        ({"credHelpers": ["x"]}, "'credHelpers' is a JSON array"),
    ],
    ids=["auths-entry-string", "top-level-array", "credhelpers-array"],
)
def test_docker_config_of_the_wrong_shape_is_refused(
    home: Path, proxy: FaultProxy, config: Any, words: str
) -> None:
    text = json.dumps(config).replace("HOST", proxy.host)
    (home / "docker" / "config.json").write_text(text)
    run = dockerfeed(home, "tags", proxy.host, APP, "--docker-config")
    assert_fails(run, 2, f"Docker config {home / 'docker' / 'config.json'}", words)
    assert proxy.log == []


def test_credential_helper_that_prints_a_json_array(home: Path, proxy: FaultProxy) -> None:
    helper = home / "bin" / "docker-credential-odd"
    helper.write_text("#!/bin/sh\ncat >/dev/null\necho '[1,2]'\n")
    helper.chmod(0o755)
    (home / "docker" / "config.json").write_text(json.dumps({"credHelpers": {proxy.host: "odd"}}))
    run = dockerfeed(home, "tags", proxy.host, APP, "--docker-config")
    assert_fails(run, 1, "credential helper docker-credential-odd printed", "not the JSON object")


def test_token_realm_that_is_not_a_url(home: Path, seeded: Seeded, proxy: FaultProxy) -> None:
    proxy.add(
        None,
        r"^/v2/",
        set_headers(**{"WWW-Authenticate": 'Bearer realm="http://[::1",service="x"'}),
        times=50,
    )
    run = dockerfeed(home, "tags", proxy.host, APP, "-u", "ci", "--password-stdin", stdin=login(seeded))
    assert_fails(run, 1, "'http://[::1'", "not a valid URL", absent=[seeded.password])


def test_password_stdin_that_is_not_utf8(home: Path, sink: FaultProxy) -> None:
    run = dockerfeed(home, "tags", sink.host, APP, "-u", "ci", "--password-stdin", stdin=b"s3cr\xffet\n")
    assert_fails(run, 2, "--password-stdin: standard input is not UTF-8", absent=["s3cr", "et\n", "\\xff"])
    assert sink.log == []


def test_json_output_into_a_closed_pipe(home: Path, seeded: Seeded, proxy: FaultProxy) -> None:
    # `dockerfeed tags … --json | head -1`, made deterministic: the reader is gone before the
    # first byte is written.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        run = dockerfeed(
            home, "tags", proxy.host, APP, "-u", "ci", "--password-stdin", "--json",
            stdin=login(seeded), stdout=write_end,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert "Traceback" not in run.err and "Exception ignored" not in run.err, run.err
    assert run.rc == 141, run.err
    assert run.err == "dockerfeed: standard output was closed before the output was complete (broken pipe)\n"


# --------------------------------------------------------------- 7. inputs accepted silently


@pytest.mark.parametrize("typo", ["http:/", "http//", "https:/"])
def test_scheme_typos_are_refused(home: Path, sink: FaultProxy, typo: str) -> None:
    feed = f"{typo}{sink.host}"
    run = dockerfeed(home, "tags", feed, APP)
    scheme = typo.rstrip(":/")
    assert_fails(run, 2, f"feedUri {feed!r} starts with a mistyped scheme", f"write {scheme}://{sink.host}")
    assert sink.log == []


@pytest.mark.parametrize("path", ["/my registry", "/a/../v2", "/a/%2e%2e/v2", "/a/%2E%2e"])
def test_feed_paths_with_spaces_or_dot_segments_are_refused(home: Path, sink: FaultProxy, path: str) -> None:
    run = dockerfeed(home, "tags", f"http://{sink.host}{path}", APP)
    assert_fails(run, 2, "feedUri")
    assert ("space" in run.err) if " " in path else ("'..' segment" in run.err)
    assert sink.log == []


def test_username_with_a_colon_is_refused(home: Path, sink: FaultProxy) -> None:
    run = dockerfeed(home, "tags", sink.host, APP, "-u", "ci:admin", "--password-stdin", stdin=b"pw\n")
    assert_fails(run, 2, "username 'ci:admin' contains ':'", "Basic authentication")
    assert sink.log == []


def test_docker_config_auth_that_is_not_base64_is_refused(home: Path, proxy: FaultProxy) -> None:
    (home / "docker" / "config.json").write_text(json.dumps({"auths": {proxy.host: {"auth": "!!!"}}}))
    run = dockerfeed(home, "tags", proxy.host, APP, "--docker-config")
    assert_fails(run, 2, f"the 'auth' of the 'auths' entry '{proxy.host}'", "is not base64 of user:password")
    assert proxy.log == []


def test_ca_certificate_without_a_certificate_is_refused(home: Path, sink: FaultProxy) -> None:
    run = dockerfeed(home, "test", sink.host, "--ca-certificate", "/dev/null")
    assert_fails(run, 2, "--ca-certificate /dev/null holds no PEM certificate")
    assert sink.log == []


def test_password_in_the_environment_without_a_user_is_refused(
    home: Path, seeded: Seeded, proxy: FaultProxy
) -> None:
    run = dockerfeed(home, "tags", proxy.host, APP, env={"DOCKERFEED_PASSWORD": seeded.password})
    assert_fails(run, 2, "DOCKERFEED_PASSWORD is set, but no user name", absent=[seeded.password])
    assert proxy.log == []
    # With the user name it is the password, as before.
    ok = dockerfeed(
        home,
        "tags",
        proxy.host,
        APP,
        env={"DOCKERFEED_PASSWORD": seeded.password, "DOCKERFEED_USERNAME": "ci"},
    )
    assert ok.rc == 0 and APP_STABLE in ok.out.split(), ok.text


def test_password_stdin_with_a_bom_is_refused(home: Path, seeded: Seeded, proxy: FaultProxy) -> None:
    run = dockerfeed(
        home, "tags", proxy.host, APP, "-u", "ci", "--password-stdin", stdin=b"\xef\xbb\xbf" + login(seeded)
    )
    assert_fails(
        run,
        2,
        "--password-stdin: standard input starts with a UTF-8 byte order mark",
        absent=[seeded.password],
    )
    assert proxy.log == []


def test_pick_stdin_with_a_bom_is_refused(home: Path) -> None:
    run = dockerfeed(home, "pick", stdin=b"\xef\xbb\xbf1.0.0\n0.9.0\n")
    assert_fails(run, 2, "pick: standard input starts with a UTF-8 byte order mark")


# --------------------------------------------------------------- 8. all of stdin is the password


@pytest.fixture(scope="module")
def json_key_registry() -> Iterator[tuple[RegistryServer, str]]:
    """htpasswd registry whose user `_json_key` has a multi-line password (a service-account key)."""
    key = '{\n  "type": "service_account",\n  "private_key_id": "' + secrets.token_hex(8) + '"\n}'
    with RegistryServer(
        "v2", auth="htpasswd", users={"_json_key": key}, binary=find_tool("DOCKERFEED_REGISTRY2")
    ) as reg:
        yield reg, key


@pytest.mark.parametrize("newline", ["\n", "\r\n", ""], ids=["lf", "crlf", "none"])
def test_password_stdin_reads_a_multi_line_secret_whole(
    home: Path, json_key_registry: tuple[RegistryServer, str], newline: str
) -> None:
    reg, key = json_key_registry
    run = dockerfeed(
        home, "test", reg.host, "-u", "_json_key", "--password-stdin", stdin=(key + newline).encode()
    )
    assert run.rc == 0, run.text
    assert "credentials  accepted by the registry: user '_json_key'" in run.out
    assert "private_key_id" not in run.text


# --------------------------------------------------------------- 9. messages that point the right way


def test_host_in_the_image_name_is_named_as_a_host(home: Path, sink: FaultProxy) -> None:
    run = dockerfeed(home, "tags", sink.host, f"{sink.host}/demo/webapp")
    assert_fails(
        run, 2, f"starts with the registry host '{sink.host}'", "'demo/webapp'", absent=["tag or digest"]
    )
    assert sink.log == []


class _OtherNameTLS(RegistryServer):
    """A TLS registry whose certificate names only `registry.example` (not 127.0.0.1)."""

    def _prepare_tls(self) -> None:
        self.ca = make_ca("dockerfeed registry CA")
        leaf = make_leaf(self.ca, "registry.example", hosts=["registry.example"])
        self._path("ca.pem").write_bytes(self.ca.cert_pem())
        self._path("server.pem").write_bytes(leaf.cert_pem())
        key_path = self._path("server-key.pem")
        key_path.write_bytes(leaf.key_pem())
        key_path.chmod(0o600)

    @property
    def verify(self) -> ssl.SSLContext | bool:
        # The readiness probe trusts the CA but not the name (which is the point of this server).
        ctx = ssl.create_default_context(cafile=str(self.ca_cert_path))
        ctx.check_hostname = False
        return ctx


@pytest.fixture(scope="module")
def tls_registry() -> Iterator[RegistryServer]:
    with _OtherNameTLS("v3", tls=True, binary=find_tool("DOCKERFEED_REGISTRY3")) as reg:
        yield reg


def test_hostname_mismatch_with_the_ca_given_does_not_ask_for_the_ca(
    home: Path, tls_registry: RegistryServer
) -> None:
    assert tls_registry.ca_cert_path is not None
    run = dockerfeed(
        home, "test", f"https://{tls_registry.host}", "--ca-certificate", str(tls_registry.ca_cert_path)
    )
    assert run.rc == 1, run.text
    assert "certificate does not name '127.0.0.1'" in run.err, run.err
    assert "give the registry's CA" not in run.err and "Traceback" not in run.text


def test_plain_http_to_a_tls_port_says_to_use_https(home: Path, tls_registry: RegistryServer) -> None:
    run = dockerfeed(home, "test", f"http://{tls_registry.host}")
    assert run.rc == 1, run.text
    assert f"write the feed as https://{tls_registry.host}" in run.err, run.err
    assert "does not look like a Docker registry" not in run.err


def test_dead_proxy_is_named_as_the_proxy(home: Path, seeded: Seeded) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    run = dockerfeed(home, "tags", seeded.server.host, APP, "-u", "ci", "--password-stdin",
                     stdin=login(seeded), env={"http_proxy": dead})  # fmt: skip
    assert_fails(run, 1, f"could not connect to the proxy {dead}", "is the proxy running", "no_proxy",
                 absent=["is the registry running"])  # fmt: skip


@pytest.mark.parametrize(
    ("challenge", "words"),
    [
        ('Bearer realm="",service="x"', "a Bearer challenge that has no realm"),
        ('Bearer service="x"', "a Bearer challenge that has no realm"),
        ('Bearer realm="ftp://127.0.0.1/token",service="x"', "which is not an http(s) URL"),
    ],
    ids=["empty-realm", "no-realm", "ftp-realm"],
)
def test_unusable_realms_are_named(
    home: Path, seeded: Seeded, proxy: FaultProxy, challenge: str, words: str
) -> None:
    proxy.add(None, r"^/v2/", set_headers(**{"WWW-Authenticate": challenge}), times=50)
    run = dockerfeed(home, "tags", proxy.host, APP, "-u", "ci", "--password-stdin", stdin=login(seeded))
    assert_fails(
        run, 1, words, "misconfigured", absent=["needs credentials", "in the clear", seeded.password]
    )


def test_search_without_a_match_says_so(home: Path, seeded: Seeded, proxy: FaultProxy) -> None:
    run = dockerfeed(
        home, "search", proxy.host, "no-such-thing", "-u", "ci", "--password-stdin", stdin=login(seeded)
    )
    assert_fails(run, 1, "no repository", "'no-such-thing'")
    found = dockerfeed(
        home, "search", proxy.host, "demo", "-u", "ci", "--password-stdin", stdin=login(seeded)
    )
    assert found.rc == 0 and APP in found.out.split(), found.text


def test_catalog_answering_invalid_json_is_not_supported(
    home: Path, seeded: Seeded, proxy: FaultProxy
) -> None:
    proxy.add("GET", r"^/v2/_catalog", rewrite_body(lambda _b: b"{not json", "not json"), times=5)
    run = dockerfeed(home, "test", proxy.host, "-u", "ci", "--password-stdin", stdin=login(seeded))
    assert run.rc == 0, run.text
    catalog = next(line for line in run.out.splitlines() if line.strip().startswith("catalog"))
    assert "not usable" in catalog and "not valid JSON" in catalog, catalog
    assert "supported" not in catalog.split("catalog", 1)[1].split(":")[0]


def test_link_to_another_path_is_not_called_a_loop(home: Path, seeded: Seeded, proxy: FaultProxy) -> None:
    proxy.add("GET", TAGS + r"$", set_headers(Link='</v2/demo/other/tags/list>; rel="next"'))
    run = dockerfeed(home, "tags", proxy.host, APP, "-u", "ci", "--password-stdin", stdin=login(seeded))
    assert_fails(run, 1, "sent a Link to another path, /v2/demo/other/tags/list", absent=["loops"])


# --------------------------------------------------------------- 10. one exit-code scheme


def test_the_same_bad_rule_exits_2_in_every_command(home: Path, sink: FaultProxy) -> None:
    pick = dockerfeed(home, "pick", "1.0", "2.0", "--range", "[2.0,1.0]")
    resolve = dockerfeed(home, "resolve", sink.host, APP, "--range", "[2.0,1.0]")
    for run in (pick, resolve):
        assert_fails(run, 2, "dockerfeed: versionRange")
    assert sink.log == []


def test_exit_1_for_registry_and_resolve_failures(home: Path, seeded: Seeded, proxy: FaultProxy) -> None:
    nothing = dockerfeed(home, "resolve", proxy.host, APP, "-u", "ci", "--password-stdin",
                         "--range", "[9.0,)", stdin=login(seeded))  # fmt: skip
    assert_fails(nothing, 1, "no tag of demo/app")
    anonymous = dockerfeed(home, "tags", proxy.host, APP)
    assert_fails(anonymous, 1, "needs credentials")
    pick = dockerfeed(home, "pick", "1.0", "--range", "[2.0,)")
    assert_fails(pick, 1, "no tag matched")
    usage = dockerfeed(home, "resolve", proxy.host, APP, "--strategy", "calver")
    assert usage.rc == 2 and "dockerfeed: resolve: argument --strategy: invalid choice" in usage.err, (
        usage.text
    )


def json_failure(run: Run) -> dict[str, Any]:
    """Exactly one JSON error object on stdout, nothing on stderr."""
    assert "Traceback" not in run.text, run.text
    assert run.err == "", run.err
    error = run.json()
    assert isinstance(error, dict) and set(error) == {"kind", "message", "request"}, error
    return error


def test_json_failures_are_one_error_object(home: Path, seeded: Seeded, proxy: FaultProxy) -> None:
    cases: list[tuple[list[str], bytes, int, str, str | None]] = [
        (["tags", proxy.host, APP], b"", 1, "credentials-required", f"GET {proxy.url}/v2/{APP}/tags/list"),
        (["resolve", proxy.host, APP, "-u", "ci", "--password-stdin", "--range", "[9.0,)"],
         login(seeded), 1, "no-match", None),
        (["resolve", proxy.host, APP, "--range", "[2.0,1.0]"], b"", 2, "invalid-rule", None),
        (["resolve", proxy.host, APP, "--strategy", "calver"], b"", 2, "usage", None),
        (["tags", "ftp://r.example.com", APP], b"", 2, "invalid-reference", None),
        (["tags", proxy.host, APP, "-u", "ci:x", "--password-stdin"], b"pw\n", 2, "invalid-configuration",
         None),
        (["test", proxy.host, "-u", "ci", "--password-stdin"], b"wrong\n", 1, "bad-credentials",
         f"GET {proxy.url}/token"),
        (["search", proxy.host, "zzz", "-u", "ci", "--password-stdin"], login(seeded), 1, "no-match", None),
        (["pick", "1.0", "--range", "[2.0,)"], b"", 1, "no-match", None),
        (["pick", "1.0", "--range", "(,]"], b"", 2, "invalid-rule", None),
    ]  # fmt: skip
    for argv, stdin, code, kind, request in cases:
        run = dockerfeed(home, *argv, "--json", stdin=stdin)
        assert run.rc == code, (argv, run.text)
        error = json_failure(run)
        assert error["kind"] == kind, (argv, error)
        assert error["message"] and not error["message"].startswith("dockerfeed"), error
        assert error["request"] == request, (argv, error)
        assert seeded.password not in run.text


def test_version(home: Path) -> None:
    from importlib.metadata import version

    run = dockerfeed(home, "--version")
    assert (run.rc, run.out, run.err) == (0, f"dockerfeed {version('pulumi-dockerfeed')}\n", "")
