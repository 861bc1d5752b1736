"""schema.json is the contract: the SDK classes, the pydantic models and the providers agree with it."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import itertools
import json
import re
import types
import typing
from pathlib import Path
from typing import Any

import pulumi
import pytest
from pydantic import SecretStr

import pulumi_dockerfeed
from dockerfeed.lifecycle.models import FeedInputs, ImageVersionInputs
from dockerfeed.resources import providers
from pulumi_dockerfeed import _resources as sdk

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "schema.json").read_text())
FEED = SCHEMA["resources"]["dockerfeed:index:DockerFeed"]
IMAGE = SCHEMA["resources"]["dockerfeed:index:ImageVersion"]
SETTINGS = SCHEMA["types"]["dockerfeed:index:FeedSettings"]

RESOURCES = [
    pytest.param(FEED, sdk.DockerFeed, sdk.DockerFeedArgs, FeedInputs, id="DockerFeed"),
    pytest.param(IMAGE, sdk.ImageVersion, sdk.ImageVersionArgs, ImageVersionInputs, id="ImageVersion"),
]


def snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.title() for p in rest)


def words(text: str) -> str:
    return " ".join(text.split())


def python_type(prop: dict[str, Any]) -> Any:
    if "$ref" in prop:
        target = SCHEMA["types"][prop["$ref"].removeprefix("#/types/")]
        return str if "enum" in target else dict[str, Any]
    return {"string": str, "boolean": bool}.get(prop["type"]) or list[str]


def optional_args(hint: Any) -> tuple[Any, bool]:
    """(inner type, optional?) of `X | None`."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return (args[0] if len(args) == 1 else hint), type(None) in typing.get_args(hint)
    return hint, False


def attribute_docstrings(cls: type) -> dict[str, str]:
    """Docstrings written under annotated class attributes (the convention Sphinx reads)."""
    tree = ast.parse(inspect.getsource(cls).lstrip())
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
        ):
            docs[node.target.id] = str(after.value.value)
    return docs


def test_tokens_and_runtime_type_names() -> None:
    assert set(SCHEMA["resources"]) == {"dockerfeed:index:DockerFeed", "dockerfeed:index:ImageVersion"}
    assert SCHEMA["language"]["python"]["packageName"] == pulumi_dockerfeed.__name__
    # The runtime type a dynamic resource registers as is `pulumi-python:dynamic/<module>:<name>`.
    template = SCHEMA["language"]["python"]["runtimeTypeToken"]
    assert template.format(name="DockerFeed") == "pulumi-python:dynamic/dockerfeed:DockerFeed"


@pytest.mark.parametrize(("schema", "cls", "args_cls", "model"), RESOURCES)
def test_every_property_is_described(schema: dict[str, Any], cls: type, args_cls: type, model: type) -> None:
    for name, prop in {**schema["properties"], **schema["inputProperties"]}.items():
        assert prop.get("description", "").strip(), f"{name} has no description"
    assert schema["description"].strip()
    assert set(schema["inputProperties"]) <= set(schema["properties"])
    for name, prop in schema["inputProperties"].items():
        assert prop == schema["properties"][name], f"{name}: input and output declarations differ"


@pytest.mark.parametrize(("schema", "cls", "args_cls", "model"), RESOURCES)
def test_inputs_agree(schema: dict[str, Any], cls: type, args_cls: type, model: type) -> None:
    declared = list(schema["inputProperties"])
    required = set(schema["requiredInputs"])
    # pydantic models: the same names (as aliases), the same required set, the same types.
    aliases = {f.alias or name: (name, f) for name, f in model.model_fields.items()}
    assert sorted(aliases) == sorted(declared)
    assert {a for a, (_, f) in aliases.items() if f.is_required()} == required
    # SDK keyword arguments of the constructor and fields of the Args dataclass.
    kwargs = [
        p.name
        for p in inspect.signature(cls.__init__).parameters.values()  # type: ignore[misc]
        if p.kind is inspect.Parameter.KEYWORD_ONLY
    ]
    assert [camel(k) for k in kwargs] == declared
    fields = {f.name: f for f in dataclasses.fields(args_cls)}
    assert [camel(k) for k in fields] == declared
    assert {camel(k) for k, f in fields.items() if f.default is dataclasses.MISSING} == required
    # The SDK translates each name to the schema's camelCase, and back.
    for name in declared:
        py = snake(name)
        assert sdk._NAMES.get(py, py) == name
        assert sdk._PY_NAMES.get(name, name) == py
    # The provider copies exactly these inputs into its outputs.
    provider_inputs = providers.FEED_INPUTS if cls is sdk.DockerFeed else providers.IMAGE_INPUTS
    assert list(provider_inputs) == declared


@pytest.mark.parametrize(("schema", "cls", "args_cls", "model"), RESOURCES)
def test_outputs_agree(schema: dict[str, Any], cls: type, args_cls: type, model: type) -> None:
    # Only the class's own annotations (pulumi's base classes have unresolvable ones).
    own = inspect.get_annotations(cls)
    hints = {k: eval(v, vars(sdk)) if isinstance(v, str) else v for k, v in own.items()}
    outputs = {camel(k): v for k, v in hints.items() if typing.get_origin(v) is pulumi.Output}
    assert sorted(outputs) == sorted(schema["properties"])
    required = set(schema["required"])
    for name, prop in schema["properties"].items():
        inner, optional = optional_args(typing.get_args(outputs[name])[0])
        assert inner == python_type(prop), name
        assert optional == (name not in required), f"{name}: Optional must mirror `required`"
    computed = [n for n in schema["properties"] if n not in schema["inputProperties"]]
    if cls is sdk.DockerFeed:
        assert tuple(computed) == providers.FEED_OUTPUTS
    else:
        assert tuple(computed) == providers.IMAGE_OUTPUTS


@pytest.mark.parametrize(("schema", "cls", "args_cls", "model"), RESOURCES)
def test_sdk_docstrings_are_the_schema_descriptions(
    schema: dict[str, Any], cls: type, args_cls: type, model: type
) -> None:
    docs = attribute_docstrings(cls)
    for name, prop in schema["properties"].items():
        assert words(docs.get(snake(name), "")) == words(prop["description"]), name
    assert cls.__doc__ and cls.__doc__.strip()


def test_feed_settings_type_is_the_feed_inputs() -> None:
    assert SETTINGS["properties"] == FEED["inputProperties"]
    assert SETTINGS["required"] == FEED["requiredInputs"]
    assert IMAGE["inputProperties"]["feed"]["$ref"] == "#/types/dockerfeed:index:FeedSettings"
    fields = [camel(f.name) for f in dataclasses.fields(sdk.FeedSettingsArgs)]
    assert fields == list(SETTINGS["properties"])
    assert [camel(k) for k in sdk._FEED_FIELDS] == list(SETTINGS["properties"])


def test_password_is_secret_everywhere() -> None:
    secret = {name for name, prop in FEED["inputProperties"].items() if prop.get("secret")}
    assert secret == {"password"}
    assert FEED["properties"]["password"].get("secret") is True
    assert SETTINGS["properties"]["password"].get("secret") is True
    # pydantic never shows it (repr, errors), the SDK marks it secret going in and coming out.
    assert FeedInputs.model_fields["password"].annotation == SecretStr | None
    assert "hunter2" not in repr(FeedInputs(feed_uri="localhost:5000", username="u", password="hunter2"))  # type: ignore[arg-type]
    source = inspect.getsource(sdk)
    assert 'additional_secret_outputs=["password"]' in source
    props = sdk.FeedSettingsArgs(feed_uri="localhost:5000", username="u", password="p")._props()
    assert isinstance(props["password"], pulumi.Output)
    assert props["feed_uri"] == "localhost:5000"
