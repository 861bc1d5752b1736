"""DockerFeed: discover the API version, validate the credentials, and tell an API version (or auth
scheme) a refresh found changed from one the stored inputs already acknowledge (docs/design.md,
"Lifecycle")."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from dockerfeed import contract
from dockerfeed.lifecycle.results import Checked, Diffed, LifecycleError, Read
from dockerfeed.lifecycle.values import UNKNOWN, changed, given, has_unknown, is_unknown, with_defaults

if TYPE_CHECKING:
    from dockerfeed.registry import FeedInfo

TOKEN = contract.FEED_TOKEN
FEED_INPUTS = contract.FEED_INPUTS
FEED_OUTPUTS = contract.FEED_OUTPUTS
# What the registry answered, as the stored inputs acknowledge it: `apiVersion` is then the
# version found (an explicit one is verified to be it; `auto` accepts it).
SEEN = ("apiVersion", "registryUrl", "pullAddress", "authScheme", "catalogSupported")
# A refresh shows these as drift; registryUrl and pullAddress follow from the inputs alone, and
# catalogSupported is probed by create and update only (a flaky probe must not look like drift).
DRIFT = ("apiVersion", "authScheme")
# Defaults other than apiVersion (whose `auto` accepts the version found, see connection_changed).
DEFAULTS = {k: v for k, v in contract.FEED_DEFAULTS.items() if k != "apiVersion"}
MOVED = "__moved"  # in the outputs, set by a refresh that found DRIFT changed: {property: before}
DETECTED = ("v2", "v1")


def connect(props: dict[str, Any], *, redetect: bool = False, catalog: bool = True) -> dict[str, Any]:
    """Ping, validate the credentials for real, probe the catalog: the SEEN values. `redetect`
    is a refresh's (with the props from the state)."""
    from dockerfeed.lifecycle.frozen import frozen_password_hint
    from dockerfeed.registry import NotARegistry, Registry, RegistryError

    inputs = _model(props)
    try:
        settings = inputs.settings()
        if redetect:
            # A refresh reads its feeds first: what the images will ask for starts now.
            from dockerfeed.resolve import read_ahead_of_feed

            read_ahead_of_feed(settings)
        try:
            registry = Registry(settings)
            info: FeedInfo = registry.ping()
        except NotARegistry:
            # On refresh `props` are the outputs, whose apiVersion is the one detected before.
            # When the registry no longer speaks it, detect afresh: a registry that changed API
            # version is drift to show, not an error.
            if not redetect or inputs.api_version == "auto":
                raise
            inputs = inputs.with_api_version("auto")
            registry = Registry(inputs.settings())
            info = registry.ping()
        registry.validate(info)
        supported = registry.catalog_supported() if catalog else props.get("catalogSupported")
    except RegistryError as e:
        raise LifecycleError(str(e) + (frozen_password_hint(props, e) if redetect else "")) from None
    return {
        "apiVersion": info.api_version,
        "registryUrl": info.registry_url,
        "pullAddress": info.pull_address,
        "authScheme": info.auth_scheme,
        "catalogSupported": supported,
    }


def _model(props: dict[str, Any]) -> Any:
    """The inputs as a connection needs them: read plainly when they are of the stored shape
    (plain.py: no pydantic on a refresh), else validated by the models."""
    from dockerfeed.lifecycle import plain

    found = plain.feed(props)
    if found is not None:
        return found
    from pydantic import ValidationError

    from dockerfeed.lifecycle.models import FeedInputs

    try:
        return FeedInputs.model_validate(props)
    except ValidationError as e:
        raise LifecycleError(f"invalid DockerFeed inputs: {e}") from None


def addresses(props: dict[str, Any]) -> dict[str, Any]:
    """registryUrl and pullAddress, which follow from the inputs (UNKNOWN while they are unknown)."""
    from dockerfeed.registry import RegistryError

    keys = ("feedUri", "registryPath", "insecureSkipTlsVerify")
    if any(has_unknown(props.get(k)) for k in keys):
        return {"registryUrl": UNKNOWN, "pullAddress": UNKNOWN}
    try:
        settings = _model({k: props[k] for k in keys if props.get(k) is not None}).settings()
        return {"registryUrl": settings.address.base_url, "pullAddress": settings.pull_address}
    except (LifecycleError, RegistryError):
        return {"registryUrl": UNKNOWN, "pullAddress": UNKNOWN}


def carries_seen(props: dict[str, Any]) -> bool:
    return props.get("apiVersion") in DETECTED and all(
        props.get(k) is not None and not is_unknown(props.get(k)) for k in SEEN
    )


def connection_changed(olds: dict[str, Any], news: dict[str, Any]) -> bool:
    """Whether the feed must be validated again: any input differs (`auto` or no apiVersion
    accepts the version found before)."""
    old, new = with_defaults(olds, DEFAULTS), with_defaults(news, DEFAULTS)
    if any(changed(old.get(k), new.get(k)) for k in FEED_INPUTS if k != "apiVersion"):
        return True
    api = news.get("apiVersion")
    if not is_unknown(api) and api in (None, "auto"):
        return False
    return changed(olds.get("apiVersion"), api)


def _program(news: dict[str, Any]) -> dict[str, Any]:
    inputs = given(news, FEED_INPUTS)
    if inputs.get("apiVersion") == "auto":
        del inputs["apiVersion"]  # the default: accept whichever version is found
    return inputs


def inputs_from(outputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs the lifecycle stores for these outputs: the program's inputs and what was seen."""
    return {**given(outputs, FEED_INPUTS), **given(outputs, SEEN)}


class FeedLifecycle:
    """Feed rules on plain camelCase property dicts (see docs/design.md)."""

    token = TOKEN
    inputs = FEED_INPUTS
    outputs = FEED_OUTPUTS
    # What the dynamic face keeps in the stored inputs beyond the program's inputs.
    stored = SEEN

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> Checked:
        from dockerfeed.lifecycle.models import FeedInputs, check_failures

        failures = check_failures(FeedInputs, news)
        inputs = _program(news)
        if not failures:
            inputs.update(addresses(inputs))
            if carries_seen(olds) and not connection_changed(olds, inputs):
                inputs.update(given(olds, SEEN), **addresses(inputs))
        return Checked(inputs, failures)

    def diff(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> Diffed:
        """`olds` are the stored outputs; `news` the checked inputs (on refresh: the stored inputs)."""
        old, new = with_defaults(olds, DEFAULTS), with_defaults(news, DEFAULTS)
        found = [k for k in FEED_INPUTS if k != "apiVersion" and changed(old.get(k), new.get(k))]
        api = news.get("apiVersion")
        if is_unknown(api) or (api not in (None, "auto") and api != olds.get("apiVersion")):
            found.append("apiVersion")
        found += [k for k in SEEN if k in news and k != "apiVersion" and changed(olds.get(k), news.get(k))]
        if not carries_seen(news) and isinstance(olds.get(MOVED), dict):
            found += [k for k in DRIFT if k in olds[MOVED]]
        order = [*FEED_INPUTS, *SEEN]
        return Diffed(sorted(set(found), key=order.index))

    def create(self, inputs: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        seen = given(inputs, SEEN) if carries_seen(inputs) else connect(inputs)
        return uuid.uuid4().hex, {**_program(inputs), **seen, "previousApiVersion": None}

    def update(self, id: str, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        # Inputs that carry what was seen were validated by this run's check (dynamic face).
        seen = given(news, SEEN) if carries_seen(news) else connect(news)
        before = olds.get("apiVersion")
        moved = before in DETECTED and before != seen["apiVersion"]
        previous = before if moved else olds.get("previousApiVersion")
        return {**_program(news), **seen, "previousApiVersion": previous}

    def read(self, id: str, outputs: dict[str, Any], inputs: dict[str, Any] | None = None) -> Read:
        """Validate again (credentials revoked fail the refresh) and detect the API version."""
        seen = connect(outputs, redetect=True, catalog=False)
        stored = dict(inputs) if inputs is not None else inputs_from(outputs)
        before = {k: outputs.get(k) for k in DRIFT if outputs.get(k) != seen[k]}
        if not before and carries_seen(outputs):
            return Read(id, dict(outputs), stored)
        outs = {**given(outputs, FEED_INPUTS), **seen}
        outs["previousApiVersion"] = before.get("apiVersion") or outputs.get("previousApiVersion")
        if before:
            outs[MOVED] = before
        return Read(id, outs, {**stored, **given(seen, SEEN)})

    def preview(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        """The outputs a preview shows: what was seen while the connection stays, UNKNOWN where
        validating again decides."""
        outs = {**_program(news), **addresses(news)}
        if carries_seen(news):
            outs.update(given(news, SEEN), previousApiVersion=olds.get("previousApiVersion"))
        elif olds and not connection_changed(olds, news):
            if carries_seen(olds):  # (state from before the inputs stored it has nothing to show)
                outs.update(
                    given(olds, SEEN), **addresses(news), previousApiVersion=olds.get("previousApiVersion")
                )
        else:
            api = news.get("apiVersion")
            outs.update(
                apiVersion=api if api in DETECTED else UNKNOWN,
                authScheme=UNKNOWN,
                catalogSupported=UNKNOWN,
                previousApiVersion=UNKNOWN if olds else None,
            )
        return outs

    def settle(self, olds: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        """Checked inputs with what validating the feed finds (what the dynamic face stores, since
        its create and update cannot change the stored inputs). An unchanged feed needs no registry."""
        if carries_seen(inputs) or (olds and not connection_changed(olds, inputs)):
            return inputs
        return {**inputs, **connect(inputs)}


FEED = FeedLifecycle()
