"""Settings must not cross between resources of one run (real Pulumi CLI, real TLS registry).

All ImageVersions of a run are served by one provider process, which caches listings, digests,
tokens, learned hosts and HTTP clients. A feed that trusts the registry (insecureSkipTlsVerify,
or its own caCertificate) must not let a later feed on the same registry, which trusts only the
system's CAs, pin through that trust: alone the later one fails with CERTIFICATE_VERIFY_FAILED,
and so it must beside the trusting one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pulumi
import pytest
from pulumi import automation as auto

from pulumi_dockerfeed import FeedSettingsArgs, ImageVersion
from tests.support import images
from tests.support.servers import RegistryServer
from tests.support.stack import resource_state, resources, stack

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

REPO = "demo/tls"
TAGS = ("1.0.0", "1.1.0")


@pytest.fixture(scope="module")
def tls_registry() -> Iterator[RegistryServer]:
    """distribution v3 over https with a certificate from its own CA (not in the system's)."""
    from tests.conftest import require_tool

    with RegistryServer("v3", tls=True, binary=require_tool("DOCKERFEED_REGISTRY3")) as reg:
        for tag in TAGS:
            images.push_image(reg.url, REPO, tag, verify=reg.verify)
        yield reg


def system_trust(reg: RegistryServer) -> FeedSettingsArgs:
    return FeedSettingsArgs(feed_uri=f"https://{reg.host}")


def trusting(reg: RegistryServer, how: str) -> FeedSettingsArgs:
    if how == "insecure":
        return FeedSettingsArgs(feed_uri=f"https://{reg.host}", insecure_skip_tls_verify=True)
    assert reg.ca_cert_path is not None
    return FeedSettingsArgs(feed_uri=f"https://{reg.host}", ca_certificate=reg.ca_cert_path.read_text())


def up_error(st: auto.Stack) -> str:
    with pytest.raises(auto.CommandError) as failed:
        st.up()
    return str(failed.value)


def created(st: auto.Stack) -> set[str]:
    return {r["urn"].rsplit("::", 1)[-1] for r in resources(st) if "ImageVersion" in r["type"]}


def test_alone_the_system_trust_feed_fails_verification(tls_registry: RegistryServer, tmp_path: Path) -> None:
    def program() -> None:
        ImageVersion("secure", feed=system_trust(tls_registry), image=REPO)

    st = stack(tmp_path, program, project="dockerfeed-tls-alone")
    assert "CERTIFICATE_VERIFY_FAILED" in up_error(st)
    assert created(st) == set()


@pytest.mark.parametrize("how", ["insecure", "ca"])
def test_a_trusting_feed_does_not_let_a_later_one_pin_without_verification(
    tls_registry: RegistryServer, tmp_path: Path, how: str
) -> None:
    def program() -> None:
        first = ImageVersion("trusting", feed=trusting(tls_registry, how), image=REPO)
        # Later, in the same provider process: the same registry, repository and (anonymous)
        # identity, but a connection that must verify against the system's CAs.
        ImageVersion(
            "secure",
            feed=system_trust(tls_registry),
            image=REPO,
            opts=pulumi.ResourceOptions(depends_on=[first]),
        )

    st = stack(tmp_path, program, project=f"dockerfeed-tls-{how}")
    error = up_error(st)
    assert "CERTIFICATE_VERIFY_FAILED" in error, error
    assert created(st) == {"trusting"}
    assert resource_state(st, "trusting")["outputs"]["tag"] == "1.1.0"
