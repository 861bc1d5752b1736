"""One scenario, every face (issue 13 point 6): the dynamic provider from Python and the native
plugin from YAML, TypeScript and Go run the same drift scenario through the real Pulumi CLI.

Each test uses its own repository, or its own registry when it stops it.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import in_ci
from tests.support.faces import FACES, PLUGIN_FACES, ExampleMissing, Face, FaceError
from tests.support.images import delete_tag, push_image
from tests.support.servers import RegistryServer, Skopeo
from tests.support.stack import raw_export, resource_state, state_snapshot

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def registry() -> Iterator[RegistryServer]:
    with RegistryServer("v3", auth="htpasswd", users={"ci": secrets.token_urlsafe(16)}) as server:
        yield server


def make_face(name: str, server: RegistryServer, work: Path, image: str, **config: str) -> Face:
    user, password = server.credentials or ("", "")
    settings = {"feedUri": server.host, "image": image, "username": user or "", **config}
    try:
        return Face(name, work, settings, {"password": password or ""})
    except ExampleMissing as e:
        if in_ci():
            pytest.fail(f"CI is set and the {name} face cannot run: {e}", pytrace=False)
        pytest.skip(str(e))


def push(server: RegistryServer, repo: str, *tags: str, salt: str = "") -> dict[str, str]:
    return {tag: push_image(server.url, repo, tag, auth=server.push_credentials, salt=salt) for tag in tags}


def pin(face: Face) -> tuple[str, str, str | None]:
    outs = resource_state(face.stack, "app")["outputs"]
    return outs["tag"], outs["digest"], outs.get("previousTag")


def quiet(summary: dict[str, int]) -> bool:
    return set(summary) == {"same"}


@pytest.mark.parametrize("face", FACES)
def test_pin_preview_refresh_refresh_then_quiet_up(
    face: str,
    registry: RegistryServer,
    skopeo: Skopeo,
    tmp_path: Path,
    unique_repo: Callable[[str], str],
) -> None:
    repo = unique_repo("faces")
    push(registry, repo, "1.0.0", "1.1.0", "2.0.0-rc.1")
    st = make_face(face, registry, tmp_path, repo, preReleaseTag="^$")
    first = st.up()
    # up pins the tag and the digest; the digest is skopeo's.
    assert first.outputs["tag"] == "1.1.0"
    assert first.outputs["digest"] == skopeo.digest(registry, repo, "1.1.0")
    assert pin(st) == ("1.1.0", first.outputs["digest"], None)

    # preview --refresh shows the newer tag and writes nothing.
    push(registry, repo, "1.2.0")
    before = state_snapshot(st.stack)
    previewed = st.preview(refresh=True)
    assert "1.2.0" in previewed.stdout
    assert state_snapshot(st.stack) == before

    # refresh moves the pin and sets previousTag; the next up changes no resource.
    st.refresh()
    assert pin(st) == ("1.2.0", skopeo.digest(registry, repo, "1.2.0"), "1.1.0")
    again = st.up()
    assert quiet(again.summary), again.summary
    assert again.outputs["tag"] == "1.2.0"

    # The password never appears in plaintext: not in the state, the outputs or any output text.
    _, password = registry.credentials or ("", "")
    assert password
    exported = raw_export(st.stack)
    for text in (exported, first.stdout, previewed.stdout, again.stdout, repr(again.outputs)):
        assert password not in text


@pytest.mark.parametrize("face", FACES)
def test_moved_digest_is_drift(
    face: str, registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("faces")
    first = push(registry, repo, "1.0.0")["1.0.0"]
    st = make_face(face, registry, tmp_path, repo)
    st.up()
    moved = push(registry, repo, "1.0.0", salt="rebuilt")["1.0.0"]
    assert moved != first
    st.refresh()
    assert pin(st) == ("1.0.0", moved, "1.0.0")
    assert quiet(st.up().summary)


@pytest.mark.parametrize("face", FACES)
def test_deleted_pinned_tag_moves_to_best_remaining(
    face: str, registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("faces")
    digests = push(registry, repo, "1.0.0", "1.1.0", "1.2.0")
    st = make_face(face, registry, tmp_path, repo, versionRange="[1.0,1.2)")
    st.up()
    assert pin(st) == ("1.1.0", digests["1.1.0"], None)
    delete_tag(registry.url, repo, "1.1.0", auth=registry.push_credentials)
    st.refresh()
    assert pin(st) == ("1.0.0", digests["1.0.0"], "1.1.0")
    assert quiet(st.up().summary)


@pytest.mark.parametrize("face", FACES)
def test_refresh_against_a_stopped_registry_fails_and_leaves_the_state(
    face: str, start_registry: Callable[..., RegistryServer], tmp_path: Path
) -> None:
    server = start_registry("v3", auth="htpasswd", users={"ci": secrets.token_urlsafe(16)})
    push(server, "faces/stopped", "1.0.0")
    st = make_face(face, server, tmp_path, "faces/stopped")
    st.up()
    before = state_snapshot(st.stack)
    host = server.host
    server.stop()
    with pytest.raises(FaceError) as failed:
        st.refresh()
    assert host in str(failed.value)
    if face in PLUGIN_FACES:  # the dynamic face's errors come with a Python traceback (README)
        assert "Traceback" not in str(failed.value)
    # Byte-identical apart from the secrets' nonces (state_snapshot compares those by presence).
    assert state_snapshot(st.stack) == before


@pytest.mark.parametrize("face", FACES)
def test_bad_regex_is_refused_at_preview_naming_the_property(
    face: str, registry: RegistryServer, tmp_path: Path, unique_repo: Callable[[str], str]
) -> None:
    repo = unique_repo("faces")
    push(registry, repo, "1.0.0")
    st = make_face(face, registry, tmp_path, repo, preReleaseTag="(")
    with pytest.raises(FaceError) as failed:
        st.preview()
    message = str(failed.value)
    assert "preReleaseTag" in message and "not a valid regular expression" in message
    if face in PLUGIN_FACES:
        assert "Traceback" not in message
