"""The lifecycle of both resources on plain property dicts (camelCase, as in schema.json).

Both faces adapt it: the dynamic providers (`dockerfeed.resources.providers`) and the native
plugin (`dockerfeed.plugin`). It decides when a pin is resolved, kept or moved, and how a refresh's
move is told from one the stored inputs already acknowledge; docs/design.md ("Lifecycle") says
why. It imports the registry client and the resolver lazily, and never Pulumi.

    check(olds, news) -> Checked             olds: stored inputs; news: the program's inputs
    diff(id, olds, news) -> Diffed            olds: stored outputs; news: checked inputs
    create(inputs) -> (id, outputs)
    update(id, olds, news) -> outputs         olds: stored outputs; all outputs come back
    read(id, outputs, inputs=None) -> Read    refresh; inputs None when the face has none (dynamic)
    preview(olds, news) -> outputs            known where known, UNKNOWN where the operation decides
    settle(olds, inputs) -> inputs            the dynamic face's check outside a preview: the
                                              registry's answers its stored inputs must carry
"""

from dockerfeed.lifecycle.feed import FEED, FEED_INPUTS, FEED_OUTPUTS, FeedLifecycle
from dockerfeed.lifecycle.image import IMAGE, IMAGE_INPUTS, IMAGE_OUTPUTS, ImageVersionLifecycle
from dockerfeed.lifecycle.results import Checked, Diffed, LifecycleError, Read
from dockerfeed.lifecycle.values import UNKNOWN, is_unknown

__all__ = [
    "FEED",
    "FEED_INPUTS",
    "FEED_OUTPUTS",
    "IMAGE",
    "IMAGE_INPUTS",
    "IMAGE_OUTPUTS",
    "UNKNOWN",
    "Checked",
    "Diffed",
    "FeedLifecycle",
    "ImageVersionLifecycle",
    "LifecycleError",
    "Read",
    "is_unknown",
]
