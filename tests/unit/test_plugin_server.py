"""The native plugin over real gRPC in-process, with a recording lifecycle in place of the real one.

What the adapter itself owes (docs/design.md, "Two faces"): the version handshake, the schema,
plain error messages, secrets marked, unknowns sent as the engine's sentinel, read inputs always
returned, preview routed to the lifecycle's preview.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import plugin_pb2, provider_pb2
from pulumi.runtime.rpc import UNKNOWN

from dockerfeed import contract
from dockerfeed.plugin.provider import DockerFeedPlugin
from dockerfeed.registry import BadCredentials
from tests.support.plugin import from_struct, plugin_stub, to_struct

ROOT = Path(__file__).resolve().parents[2]
FEED_URN = "urn:pulumi:dev::proj::dockerfeed:index:DockerFeed::feed"
IMAGE_URN = "urn:pulumi:dev::proj::dockerfeed:index:ImageVersion::app"


@dataclass(frozen=True)
class Checked:
    inputs: dict[str, Any]
    failures: list[tuple[str, str]]


@dataclass(frozen=True)
class Diffed:
    changed: list[str]
    replaces: list[str] = field(default_factory=list)

    @property
    def changes(self) -> bool:
        return bool(self.changed or self.replaces)


@dataclass(frozen=True)
class Read:
    id: str
    outputs: dict[str, Any]
    inputs: dict[str, Any]


class Recording:
    """A lifecycle that records its calls and answers what the test set."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.error: Exception | None = None
        self.failures: list[tuple[str, str]] = []
        self.changed: list[str] = []
        self.outputs: dict[str, Any] = {}
        self.read_inputs: dict[str, Any] = {}

    def _call(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if self.error is not None:
            raise self.error

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> Checked:
        self._call("check", olds, news)
        return Checked(dict(news), list(self.failures))

    def diff(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> Diffed:
        self._call("diff", id, olds, news)
        return Diffed(list(self.changed))

    def create(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self._call("create", inputs)
        return "id-1", {**inputs, **self.outputs}

    def update(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        self._call("update", id, olds, news)
        return {**news, **self.outputs}

    def read(self, id: str, outputs: dict[str, Any], inputs: dict[str, Any] | None = None) -> Read:
        self._call("read", id, outputs, inputs)
        return Read(id, {**outputs, **self.outputs}, dict(self.read_inputs))

    def preview(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        self._call("preview", olds, news)
        return {**news, **self.outputs}


@pytest.fixture
def lifecycles() -> dict[str, Recording]:
    return {t: Recording(t) for t in (contract.FEED_TOKEN, contract.IMAGE_TOKEN)}


@pytest.fixture
def stub(lifecycles: dict[str, Recording]) -> Iterator[Any]:
    with plugin_stub(DockerFeedPlugin(lambda: dict(lifecycles))) as s:  # type: ignore[arg-type]
        yield s


def test_handshake_version_and_schema(stub: Any) -> None:
    info = stub.GetPluginInfo(empty_pb2.Empty())
    assert info.version == contract.VERSION == json.loads((ROOT / "schema.json").read_text())["version"]
    schema = stub.GetSchema(provider_pb2.GetSchemaRequest(version=0)).schema
    assert schema == (ROOT / "schema.json").read_text()
    configured = stub.Configure(provider_pb2.ConfigureRequest(acceptSecrets=True))
    assert configured.acceptSecrets and configured.supportsPreview
    assert isinstance(plugin_pb2.PluginInfo(), plugin_pb2.PluginInfo)


def test_check_passes_unknowns_through_and_returns_failures_per_property(
    stub: Any, lifecycles: dict[str, Recording]
) -> None:
    image = lifecycles[contract.IMAGE_TOKEN]
    image.failures = [("tagInclude", "not a regular expression: missing )")]
    news = {"feed": {"feedUri": UNKNOWN}, "image": "team/app", "tagInclude": "("}
    done = stub.Check(provider_pb2.CheckRequest(urn=IMAGE_URN, olds=to_struct({}), news=to_struct(news)))
    assert [(f.property, f.reason) for f in done.failures] == image.failures
    name, (olds, seen) = image.calls[-1]
    assert name == "check" and olds == {} and seen == news
    assert from_struct(done.inputs)[0] == news


def test_secrets_stay_secret_nested_and_by_schema(stub: Any, lifecycles: dict[str, Recording]) -> None:
    image = lifecycles[contract.IMAGE_TOKEN]
    image.outputs = {"tag": "1.0.0", "digest": "sha256:" + "0" * 64}
    feed = {"feedUri": "localhost:5000", "username": "ci", "password": "hunter2"}
    # The password arrives as a plain (not secret) string: the schema still makes it secret.
    done = stub.Create(
        provider_pb2.CreateRequest(urn=IMAGE_URN, properties=to_struct({"feed": feed, "image": "a"}))
    )
    outputs, secret = from_struct(done.properties)
    assert outputs["feed"]["password"] == "hunter2"
    assert secret == {"feed.password"}
    # A whole value that came in secret goes out secret.
    feed_life = lifecycles[contract.FEED_TOKEN]
    feed_life.outputs = {"registryUrl": "http://localhost:5000"}
    done = stub.Create(
        provider_pb2.CreateRequest(urn=FEED_URN, properties=to_struct(feed, secret=("username",)))
    )
    _, secret = from_struct(done.properties)
    assert secret == {"username", "password"}
    assert feed_life.calls[-1] == ("create", (feed,))


def test_preview_goes_to_the_lifecycle_preview_and_unknowns_go_out_as_the_sentinel(
    stub: Any, lifecycles: dict[str, Recording]
) -> None:
    image = lifecycles[contract.IMAGE_TOKEN]
    image.outputs = {"tag": UNKNOWN, "digest": UNKNOWN}
    props = {"feed": {"feedUri": "localhost:5000"}, "image": "a"}
    done = stub.Create(provider_pb2.CreateRequest(urn=IMAGE_URN, properties=to_struct(props), preview=True))
    outputs, _ = from_struct(done.properties)
    assert outputs["tag"] == UNKNOWN and outputs["digest"] == UNKNOWN
    assert image.calls[-1][0] == "preview" and done.id == ""
    done = stub.Update(
        provider_pb2.UpdateRequest(
            urn=IMAGE_URN, id="id-1", olds=to_struct(props), news=to_struct(props), preview=True
        )
    )
    assert image.calls[-1][0] == "preview"


def test_read_always_returns_inputs(stub: Any, lifecycles: dict[str, Recording]) -> None:
    image = lifecycles[contract.IMAGE_TOKEN]
    stored = {"feed": {"feedUri": "localhost:5000"}, "image": "a"}
    image.read_inputs = {**stored, "tag": "1.1.0"}
    done = stub.Read(
        provider_pb2.ReadRequest(
            urn=IMAGE_URN,
            id="id-1",
            properties=to_struct({**stored, "tag": "1.0.0"}),
            inputs=to_struct(stored),
        )
    )
    assert from_struct(done.inputs)[0] == image.read_inputs
    assert image.calls[-1] == ("read", ("id-1", {**stored, "tag": "1.0.0"}, stored))


def test_diff_names_each_changed_property(stub: Any, lifecycles: dict[str, Recording]) -> None:
    image = lifecycles[contract.IMAGE_TOKEN]
    image.changed = ["versionRange", "tag"]
    olds = {"image": "a", "versionRange": "[1,2)", "tag": "1.0.0"}
    news = {"image": "a", "versionRange": "[1,3)"}
    done = stub.Diff(
        provider_pb2.DiffRequest(urn=IMAGE_URN, id="id-1", olds=to_struct(olds), news=to_struct(news))
    )
    assert done.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(done.diffs) == ["versionRange", "tag"]
    assert done.detailedDiff["versionRange"].inputDiff is True
    assert done.detailedDiff["tag"].inputDiff is False
    image.changed = []
    done = stub.Diff(
        provider_pb2.DiffRequest(urn=IMAGE_URN, id="id-1", olds=to_struct(olds), news=to_struct(olds))
    )
    assert done.changes == provider_pb2.DiffResponse.DIFF_NONE


def _error(call: Any) -> str:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return str(caught.value.details())  # type: ignore[attr-defined]


def test_user_errors_are_one_plain_message(stub: Any, lifecycles: dict[str, Recording]) -> None:
    lifecycles[contract.FEED_TOKEN].error = BadCredentials(
        "localhost:5000 refused user ci: check the password"
    )
    props = to_struct({"feedUri": "localhost:5000"})
    message = _error(lambda: stub.Create(provider_pb2.CreateRequest(urn=FEED_URN, properties=props)))
    assert message == "localhost:5000 refused user ci: check the password"


def test_internal_errors_are_one_line_without_traceback(stub: Any, lifecycles: dict[str, Recording]) -> None:
    lifecycles[contract.FEED_TOKEN].error = KeyError("apiVersion")
    props = to_struct({"feedUri": "localhost:5000"})
    message = _error(lambda: stub.Create(provider_pb2.CreateRequest(urn=FEED_URN, properties=props)))
    assert message == "internal error of pulumi-resource-dockerfeed in Create: KeyError: 'apiVersion'"
    assert "Traceback" not in message and "File " not in message


def test_unknown_type_is_refused_plainly(stub: Any) -> None:
    urn = "urn:pulumi:dev::proj::dockerfeed:index:Nope::x"
    message = _error(
        lambda: stub.Check(provider_pb2.CheckRequest(urn=urn, olds=to_struct({}), news=to_struct({})))
    )
    assert message.startswith("unknown resource type 'dockerfeed:index:Nope'")


def test_import_with_a_bad_id_says_the_format(stub: Any) -> None:
    empty = to_struct({})
    message = _error(
        lambda: stub.Read(provider_pb2.ReadRequest(urn=IMAGE_URN, id="nope", properties=empty, inputs=empty))
    )
    assert message.startswith("an ImageVersion import id is <feedUri>|<image>|<tag>")


def test_invoke_refuses_bad_arguments_per_property(stub: Any) -> None:
    args = to_struct({"feed": {"feedUri": "localhost:5000"}, "image": "a", "tagInclude": "("})
    done = stub.Invoke(provider_pb2.InvokeRequest(tok=contract.GET_TAGS_TOKEN, args=args))
    assert [f.property for f in done.failures] == ["tagInclude"]
    message = _error(lambda: stub.Invoke(provider_pb2.InvokeRequest(tok="dockerfeed:index:nope", args=args)))
    assert message.startswith("unknown function 'dockerfeed:index:nope'")


def test_warm_loads_the_lifecycles_once_before_any_request(lifecycles: dict[str, Recording]) -> None:
    loads: list[int] = []

    def load() -> dict[str, Any]:
        loads.append(1)
        return dict(lifecycles)

    plugin = DockerFeedPlugin(lifecycles=load)
    plugin.warm()
    plugin.warm()
    with plugin_stub(plugin) as stub:
        stub.Check(provider_pb2.CheckRequest(urn=FEED_URN, olds=to_struct({}), news=to_struct({})))
    assert loads == [1]
    assert [name for name, _ in lifecycles["dockerfeed:index:DockerFeed"].calls] == ["check"]


def test_the_plugin_process_warms_up_after_printing_its_port() -> None:
    import subprocess
    import sys

    script = (
        "import sys, threading\n"
        "from dockerfeed.plugin import server\n"
        "from dockerfeed.plugin.provider import DockerFeedPlugin\n"
        "class P(DockerFeedPlugin):\n"
        "    def warm(self):\n"
        "        print('warm', threading.current_thread().name, flush=True)\n"
        "server.serve(['127.0.0.1:1'], P())\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip().isdigit()
        assert proc.stdout.readline().split() == ["warm", "dockerfeed-warm"]
    finally:
        proc.kill()
        proc.wait()
