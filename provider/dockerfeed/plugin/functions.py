"""The two functions (invokes) of the schema, on plain values: no state, nothing pinned.

* `dockerfeed:index:getImageVersion` resolves like ImageVersion does, on every call.
* `dockerfeed:index:getTags` lists every tag in the strategy's order with the eligible ones marked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, cast

from dockerfeed import contract


class FunctionError(Exception):
    """A function that cannot answer (registry error, nothing matches): one plain message."""


@dataclass(frozen=True)
class Result:
    value: dict[str, Any] = field(default_factory=dict)
    failures: list[tuple[str, str]] = field(default_factory=list)


def invoke(token: str, args: dict[str, Any]) -> Result:
    if token == contract.GET_IMAGE_VERSION_TOKEN:
        return get_image_version(args)
    if token == contract.GET_TAGS_TOKEN:
        return get_tags(args)
    known = f"{contract.GET_IMAGE_VERSION_TOKEN}, {contract.GET_TAGS_TOKEN}"
    raise FunctionError(f"unknown function {token!r}: this provider has {known}")


def _inputs(args: dict[str, Any], names: tuple[str, ...]) -> tuple[Any, list[tuple[str, str]]]:
    from dockerfeed.lifecycle.models import ImageVersionInputs, check_failures

    props = {k: v for k, v in args.items() if k in names}
    unknown = sorted(set(args) - set(names))
    failures = [(name, f"{name} is not an argument of this function") for name in unknown]
    failures += check_failures(ImageVersionInputs, props)
    if failures:
        return None, failures
    return ImageVersionInputs.model_validate(props), []


def get_image_version(args: dict[str, Any]) -> Result:
    from dockerfeed.registry import RegistryError
    from dockerfeed.resolve import ResolveError, resolve_image

    inputs, failures = _inputs(args, contract.GET_IMAGE_VERSION_INPUTS)
    if failures:
        return Result(failures=failures)
    try:
        pin = resolve_image(inputs.feed.settings(), inputs.image, inputs.rule(), platform=inputs.platform)
    except (RegistryError, ResolveError) as e:
        raise FunctionError(str(e)) from None
    return Result({k: v for k, v in pin.as_dict().items() if v is not None})


def get_tags(args: dict[str, Any]) -> Result:
    from dockerfeed.registry import Registry, RegistryError, normalize_image
    from dockerfeed.versions import select_latest
    from dockerfeed.versions.strategies import VARIANT

    inputs, failures = _inputs(args, contract.GET_TAGS_INPUTS)
    if failures:
        return Result(failures=failures)
    rule = inputs.rule()
    try:
        registry = Registry(inputs.feed.settings())
        tags = registry.list_tags(normalize_image(inputs.image, registry.address))
    except RegistryError as e:
        raise FunctionError(str(e)) from None
    selection = select_latest(tags, rule)
    eligible = {c.tag: c.version for c in selection.eligible}
    rejections = cast("list[dict[str, str]]", selection.as_dict()["rejections"])
    reasons = {r["tag"]: r["reason"] for r in rejections}
    strategy = rule.strategy_impl
    scan = strategy.scanner(rule.variant, None)
    include = re.compile(rule.tag_include) if rule.tag_include else None

    def text_of(tag: str) -> str:
        m = include.fullmatch(tag) if include else None
        if m and "version" in m.re.groupindex and m.group("version"):
            return str(m.group("version"))
        return tag

    ordered: list[tuple[Any, str]] = []
    unreadable: list[str] = []
    for tag in tags:
        key = scan(text_of(tag))
        if key is None or key is VARIANT:  # not a version (or another variant's): by name, last
            unreadable.append(tag)
        else:
            ordered.append((key, tag))
    ordered.sort(key=lambda entry: (entry[0], entry[1]))
    infos: list[dict[str, Any]] = []
    for tag in [t for _, t in ordered] + sorted(unreadable):
        info: dict[str, Any] = {"tag": tag, "eligible": tag in eligible}
        if tag in eligible:
            info["version"] = eligible[tag]
        elif tag not in unreadable:
            info["version"] = strategy.display(text_of(tag))
        if tag in reasons:
            info["reason"] = reasons[tag]
        infos.append(info)
    value: dict[str, Any] = {"tags": infos, "eligible": [c.tag for c in selection.eligible]}
    if selection.winner is not None:
        value["latest"] = selection.winner.tag
    return Result(value)
