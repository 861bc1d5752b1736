"""VersionRule: the validated, compiled form of an ImageVersion's version properties.

Regex semantics: `preReleaseTag`, `tagInclude` and `tagExclude` use search semantics, like
Octopus (.NET `Regex.IsMatch`): `beta` matches anywhere, anchor with `^…$` for the whole text.
They are compiled with the `regex` engine and matched under a time budget (patterns.py); .NET
named groups `(?<version>…)` work as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from dockerfeed.versions.errors import RULE_PROPERTIES, VersionRuleError
from dockerfeed.versions.patterns import UserPattern
from dockerfeed.versions.ranges import VersionRange
from dockerfeed.versions.strategies import STRATEGIES, Strategy

DEFAULT_STRATEGY = "octopus"
# Cosign signatures, attestations and SBOMs are stored as tags of the image itself
# (`sha256-<hex>.sig`, `.att`, `.sbom`, any case), and registries without the OCI 1.1 referrers
# API keep referrers under the fallback tag `<alg>-<hex>` (`sha256-<64 hex>`, `sha512-<128
# hex>`); none is something to deploy (Flux excludes `.sig` by default for the same reason).
DEFAULT_TAG_EXCLUDE = (r"^sha(?:256-[0-9A-Fa-f]{64}|512-[0-9A-Fa-f]{128})(?:\.(?i:sig|att|sbom))?$",)
EXTRACT_GROUP = "version"
_compile = UserPattern.compile


@dataclass(frozen=True)
class VersionRule:
    """Which tags are eligible and how they are ordered. Build with `VersionRule.build`."""

    version_range: str | None = None
    pre_release_tag: str | None = None
    tag_include: str | None = None
    tag_exclude: tuple[str, ...] = ()
    strategy: str = DEFAULT_STRATEGY
    variant: str | None = None
    # Compiled forms, filled in by __post_init__ (derived, so not part of equality).
    range: VersionRange | None = field(default=None, init=False, compare=False, repr=False)
    pre_release_re: UserPattern | None = field(default=None, init=False, compare=False, repr=False)
    include_re: UserPattern | None = field(default=None, init=False, compare=False, repr=False)
    exclude_res: tuple[UserPattern, ...] = field(default=(), init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        compiled, errors = _check(
            self.version_range,
            self.pre_release_tag,
            self.tag_include,
            self.tag_exclude,
            self.strategy,
            self.variant,
        )
        if errors:
            raise errors[0]
        for name, value in compiled.items():
            object.__setattr__(self, name, value)

    @classmethod
    def build(
        cls,
        *,
        version_range: str | None = None,
        pre_release_tag: str | None = None,
        tag_include: str | None = None,
        tag_exclude: Sequence[str] | None = None,
        strategy: str = DEFAULT_STRATEGY,
        variant: str | None = None,
    ) -> VersionRule:
        """The rule for these properties; VersionRuleError for the first bad one."""
        return cls(
            version_range=version_range,
            pre_release_tag=pre_release_tag,
            tag_include=tag_include,
            tag_exclude=_as_tuple(tag_exclude),
            strategy=strategy or DEFAULT_STRATEGY,
            variant=variant,
        )

    @property
    def strategy_impl(self) -> Strategy:
        return STRATEGIES[self.strategy]

    @property
    def extracts(self) -> bool:
        """True when tagInclude has a `version` group whose text is compared instead of the tag."""
        return self.include_re is not None and EXTRACT_GROUP in self.include_re.groups

    def describe(self) -> str:
        """The rule in the words of the schema, for messages."""
        parts = [f"strategy {self.strategy}"]
        if self.version_range:
            parts.append(f"versionRange {self.version_range}")
        if self.pre_release_tag is not None:
            parts.append(f"preReleaseTag {self.pre_release_tag!r}")
        if self.tag_include:
            parts.append(f"tagInclude {self.tag_include!r}")
        if self.tag_exclude:
            parts.append(f"tagExclude {list(self.tag_exclude)!r}")
        if self.variant is not None:
            parts.append(f"variant {self.variant!r}")
        return ", ".join(parts)


def _as_tuple(patterns: Sequence[str] | None) -> tuple[str, ...]:
    if patterns is None:
        return ()
    if isinstance(patterns, str):  # one pattern given where a list was expected
        return (patterns,)
    return tuple(patterns)


def _check(
    version_range: str | None,
    pre_release_tag: str | None,
    tag_include: str | None,
    tag_exclude: tuple[str, ...],
    strategy_name: str,
    variant: str | None,
) -> tuple[dict[str, object], list[VersionRuleError]]:
    """Compile every property; collect one error per bad property, in schema order."""
    errors: dict[str, VersionRuleError] = {}
    compiled: dict[str, object] = {}

    strategy = STRATEGIES.get(strategy_name)
    if strategy is None:
        errors["strategy"] = VersionRuleError(
            "strategy",
            f"unknown strategy '{strategy_name}'; use one of {', '.join(STRATEGIES)}",
        )
    # With a bad strategy, still check the range's syntax the Octopus way to report it too.
    effective = strategy or STRATEGIES[DEFAULT_STRATEGY]

    if version_range is not None and version_range.strip():
        if not effective.ordered_versions:
            errors["versionRange"] = VersionRuleError(
                "versionRange",
                f"the {effective.name} strategy does not order versions, so it cannot take a "
                "range; use tagInclude to narrow the tags, or another strategy",
            )
        else:
            try:
                compiled["range"] = VersionRange.parse(version_range, effective)
            except VersionRuleError as e:
                errors["versionRange"] = e

    if pre_release_tag is not None:
        if not effective.ordered_versions:
            errors["preReleaseTag"] = VersionRuleError(
                "preReleaseTag",
                f"the {effective.name} strategy has no pre-releases; use tagExclude instead",
            )
        else:
            try:
                compiled["pre_release_re"] = _compile(pre_release_tag, "preReleaseTag", "pre-release rule")
            except VersionRuleError as e:
                errors["preReleaseTag"] = e

    if tag_include:
        try:
            include = _compile(tag_include, "tagInclude", "pattern")
            compiled["include_re"] = include
        except VersionRuleError as e:
            errors["tagInclude"] = e

    excludes: list[UserPattern] = []
    problems: list[str] = []
    for index, pattern in enumerate(tag_exclude):
        try:
            excludes.append(_compile(pattern, "tagExclude", "pattern"))
        except VersionRuleError as e:
            problems.append(f"item {index + 1}: {e.reason}")
    if problems:
        errors["tagExclude"] = VersionRuleError("tagExclude", "; ".join(problems))
    compiled["exclude_res"] = tuple(excludes)

    if variant is not None and strategy_name != "docker":
        errors["variant"] = VersionRuleError(
            "variant",
            f"variant only applies to the docker strategy, not {strategy_name}; "
            "set strategy to docker or remove variant",
        )
    elif variant is not None and variant.startswith("-"):
        errors["variant"] = VersionRuleError(
            "variant",
            f"write the variant without its leading '-': {variant.lstrip('-')!r}",
        )

    return compiled, [errors[p] for p in RULE_PROPERTIES if p in errors]


def validate_rule(
    *,
    version_range: str | None = None,
    pre_release_tag: str | None = None,
    tag_include: str | None = None,
    tag_exclude: Sequence[str] | None = None,
    strategy: str = DEFAULT_STRATEGY,
    variant: str | None = None,
) -> list[VersionRuleError]:
    """Every problem of these properties, one per bad property (for Pulumi's `check`)."""
    return _check(
        version_range,
        pre_release_tag,
        tag_include,
        _as_tuple(tag_exclude),
        strategy or DEFAULT_STRATEGY,
        variant,
    )[1]
