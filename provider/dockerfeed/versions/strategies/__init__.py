"""How tags are read and compared: one Strategy per `strategy` value, one module each.

* octopus      — Octopus Deploy's parser and order (versions/octopus.py); its fast path over long
                 lists in octopus_fast.py.
* docker       — Renovate's Docker versioning: `<numbers>[<letters>]-<variant>`; only tags with the
                 same variant (and, given a current tag, the same count of numbers) compete.
* semver       — strict SemVer 2.0.0 (`v` prefix allowed); pre-releases only on request.
* pep440       — Python versions through `packaging.version` (`3.13.0rc2`).
* alphabetical — ordinal text order of the tag (or of the extracted `version` group).
* numerical    — numeric value of the tag (or of the extracted `version` group).

keys.py holds the types they share, base.py the Strategy base class, by_major.py the grouping
of long lists by leading `major.minor` that the version strategies search highest first.
"""

from dockerfeed.versions.strategies.alphabetical import AlphabeticalStrategy
from dockerfeed.versions.strategies.base import Strategy
from dockerfeed.versions.strategies.docker import DockerStrategy
from dockerfeed.versions.strategies.keys import VARIANT, SortKey
from dockerfeed.versions.strategies.numerical import NumericalStrategy
from dockerfeed.versions.strategies.octopus import OctopusStrategy
from dockerfeed.versions.strategies.pep440 import Pep440Strategy
from dockerfeed.versions.strategies.semver import SemverStrategy

STRATEGIES: dict[str, Strategy] = {
    s.name: s
    for s in (
        OctopusStrategy(),
        DockerStrategy(),
        SemverStrategy(),
        Pep440Strategy(),
        AlphabeticalStrategy(),
        NumericalStrategy(),
    )
}

__all__ = ["STRATEGIES", "VARIANT", "SortKey", "Strategy"]
