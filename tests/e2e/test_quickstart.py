"""examples/quickstart through the real Pulumi CLI against a real registry with htpasswd auth."""

from __future__ import annotations

import json
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from tests.support.images import push_image
from tests.support.servers import RegistryServer, Skopeo
from tests.support.stack import example_program, pulumi_bin, stack

pytestmark = pytest.mark.e2e
REPO = "demo/webapp"


@pytest.fixture(scope="module")
def registry() -> Iterator[RegistryServer]:
    with RegistryServer("v3", auth="htpasswd", users={"ci": secrets.token_urlsafe(16)}) as server:
        for tag in ("1.0.0", "1.1.0", "1.2.0-beta.1", "latest"):
            push_image(server.url, REPO, tag, auth=server.credentials)
        yield server


def quickstart(registry: RegistryServer, work: Path, password: str | None = None) -> auto.Stack:
    assert registry.credentials is not None
    user, real_password = registry.credentials
    return stack(
        work,
        example_program("quickstart"),
        config={"feedUri": registry.host, "username": user, "image": REPO, "preReleaseTag": "^$"},
        secrets={"password": password or real_password},
    )


def resource_outputs(st: auto.Stack, name: str) -> dict[str, Any]:
    for res in st.export_stack().deployment["resources"]:
        if res["urn"].endswith(f"::{name}"):
            return dict(res["outputs"])
    raise AssertionError(f"{name} not in state")


def raw_export(st: auto.Stack, work: Path) -> str:
    """`pulumi stack export` as a user runs it (no --show-secrets)."""
    env = dict(st.workspace.env_vars)
    done = subprocess.run(
        [str(pulumi_bin() / "pulumi"), "stack", "export", "--stack", st.name],
        cwd=work,
        env={**env, "PATH": env["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout


def test_up_refresh_drift_secrets_destroy(registry: RegistryServer, tmp_path: Path, skopeo: Skopeo) -> None:
    assert registry.credentials is not None
    user, password = registry.credentials
    st = quickstart(registry, tmp_path)

    up = st.up()
    outputs = {k: v.value for k, v in up.outputs.items()}
    assert outputs["tag"] == "1.1.0"  # 1.2.0-beta.1 is a pre-release; `latest` sorts below versions
    assert outputs["apiVersion"] == "v2"
    assert outputs["authScheme"] == "basic"
    # The same tag, seen by an independent client, has the same digest.
    assert outputs["digest"] == skopeo.digest(registry, REPO, "1.1.0")
    assert outputs["imageRef"] == f"{registry.host}/{REPO}:1.1.0@{outputs['digest']}"

    # A refresh with nothing new changes nothing.
    quiet = st.refresh()
    assert quiet.summary.resource_changes == {"same": 3}

    new_digest = push_image(registry.url, REPO, "1.2.0", auth=registry.credentials)
    refreshed = st.refresh()
    assert refreshed.summary.resource_changes == {"same": 2, "update": 1}
    pin = resource_outputs(st, "webapp")
    assert (pin["tag"], pin["digest"], pin["previousTag"]) == ("1.2.0", new_digest, "1.1.0")

    # The refresh was accepted into state: the next up changes no resource.
    again = st.up()
    assert again.summary.resource_changes == {"same": 3}
    assert again.outputs["tag"].value == "1.2.0"

    exported = raw_export(st, tmp_path)
    assert password not in exported
    assert json.loads(exported)["deployment"]["resources"]
    state_files = [p for p in (tmp_path / "state").rglob("*") if p.is_file()]
    assert state_files and not [p for p in state_files if password.encode() in p.read_bytes()]
    assert user in exported  # the user name is not a secret; its presence proves we looked

    st.destroy()
    assert st.export_stack().deployment.get("resources") in (None, [])


def test_bad_password_fails_up_with_a_clear_message(registry: RegistryServer, tmp_path: Path) -> None:
    wrong = "wrong-" + secrets.token_urlsafe(8)
    st = quickstart(registry, tmp_path, password=wrong)
    with pytest.raises(auto.CommandError) as failure:
        st.up()
    text = str(failure.value)
    assert "answered 401" in text and "check the password" in text
    assert wrong not in text
    assert not [r for r in st.export_stack().deployment.get("resources", []) if "::feed" in r["urn"]]
