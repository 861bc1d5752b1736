"""VersionRule validation: one error per bad property, named as in schema.json."""

from __future__ import annotations

import pickle

import pytest

from dockerfeed.versions import RULE_PROPERTIES, VersionRule, VersionRuleError, validate_rule


def test_defaults() -> None:
    rule = VersionRule.build()
    assert rule.strategy == "octopus"
    assert rule.range is None
    assert rule.tag_exclude == ()


def test_build_accepts_every_property() -> None:
    rule = VersionRule.build(
        version_range="[1.0,2.0)",
        pre_release_tag="^$",
        tag_include=r"^\d",
        tag_exclude=["-rc", "-beta"],
        strategy="docker",
        variant="alpine",
    )
    assert rule.tag_exclude == ("-rc", "-beta")
    assert rule.range is not None
    assert rule == VersionRule.build(
        version_range="[1.0,2.0)",
        pre_release_tag="^$",
        tag_include=r"^\d",
        tag_exclude=("-rc", "-beta"),
        strategy="docker",
        variant="alpine",
    )


def test_rule_pickles() -> None:
    rule = VersionRule.build(version_range="^1.2", pre_release_tag="^$", tag_exclude=["x"])
    assert pickle.loads(pickle.dumps(rule)) == rule


@pytest.mark.parametrize(
    ("kwargs", "prop", "words"),
    [
        ({"version_range": "(1.0)"}, "versionRange", "write [1.0]"),
        ({"pre_release_tag": "(beta"}, "preReleaseTag", "not a valid regular expression"),
        ({"tag_include": "[a-"}, "tagInclude", "not a valid regular expression"),
        ({"tag_exclude": ["ok", "(x"]}, "tagExclude", "item 2"),
        ({"strategy": "newest"}, "strategy", "unknown strategy 'newest'"),
        ({"variant": "alpine"}, "variant", "only applies to the docker strategy"),
        ({"strategy": "docker", "variant": "-alpine"}, "variant", "without its leading '-'"),
        ({"strategy": "alphabetical", "version_range": "1.0"}, "versionRange", "cannot take"),
        ({"strategy": "numerical", "pre_release_tag": "^$"}, "preReleaseTag", "no pre-releases"),
    ],
)
def test_bad_property(kwargs: dict[str, object], prop: str, words: str) -> None:
    with pytest.raises(VersionRuleError) as info:
        VersionRule.build(**kwargs)  # type: ignore[arg-type]
    assert info.value.property == prop
    assert words in info.value.reason
    assert str(info.value).startswith(f"{prop}: ")
    assert isinstance(info.value, ValueError)
    assert [e.property for e in validate_rule(**kwargs)] == [prop]  # type: ignore[arg-type]


def test_validate_rule_reports_every_bad_property() -> None:
    errors = validate_rule(
        version_range="[1.0",
        pre_release_tag="(",
        tag_include="[",
        tag_exclude=["(", "ok", ")"],
        strategy="nope",
        variant="alpine",
    )
    assert [e.property for e in errors] == list(RULE_PROPERTIES)
    (exclude,) = [e for e in errors if e.property == "tagExclude"]
    assert "item 1" in exclude.reason and "item 3" in exclude.reason


def test_validate_rule_is_empty_for_a_good_rule() -> None:
    assert validate_rule(version_range="^1.2", strategy="semver") == []


def test_dotnet_named_groups_are_accepted() -> None:
    rule = VersionRule.build(tag_include=r"^build-(?<version>\d+)$", strategy="numerical")
    assert rule.extracts
    lookbehind = VersionRule.build(tag_include=r"(?<!rc)\d$")
    assert not lookbehind.extracts


def test_error_pickles_with_its_attributes() -> None:
    error = VersionRuleError("versionRange", "bad", text="(1)", position=0)
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.property, copy.reason, copy.position, str(copy)) == (
        "versionRange",
        "bad",
        0,
        str(error),
    )


def test_blank_range_is_unset_and_single_exclude_string_is_one_pattern() -> None:
    assert VersionRule.build(version_range="  ").range is None
    assert VersionRule.build(tag_exclude="-rc").tag_exclude == ("-rc",)


def test_describe_uses_schema_names() -> None:
    text = VersionRule.build(version_range="^1", pre_release_tag="^$").describe()
    assert text == "strategy octopus, versionRange ^1, preReleaseTag '^$'"
