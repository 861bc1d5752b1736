"""Version rules for Docker tags: Octopus versions, ranges, rules, strategies and selection.

Pure functions and frozen values only (a TagList keeps what was derived from its tags, which
changes no result): no I/O, and nothing else of dockerfeed is imported, so
`resources/`, `cli.py` and the tests all use exactly the same rules.
"""

from dockerfeed.versions.errors import RULE_PROPERTIES, VersionRuleError
from dockerfeed.versions.octopus import OctopusVersion, parse_octopus
from dockerfeed.versions.ranges import VersionRange
from dockerfeed.versions.rules import DEFAULT_TAG_EXCLUDE, VersionRule, validate_rule
from dockerfeed.versions.select import Candidate, Reason, Selection, select_latest
from dockerfeed.versions.strategies import STRATEGIES
from dockerfeed.versions.taglist import TagList

__all__ = [
    "DEFAULT_TAG_EXCLUDE",
    "RULE_PROPERTIES",
    "STRATEGIES",
    "Candidate",
    "OctopusVersion",
    "Reason",
    "Selection",
    "TagList",
    "VersionRange",
    "VersionRule",
    "VersionRuleError",
    "parse_octopus",
    "select_latest",
    "validate_rule",
]
