"""The stack benchmark's provider-host samples (benchmarks/sampler): a profiled run whose host
lived too briefly to leave a sample file must not lose the whole benchmark run."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.stackscale import _merge_samples


def test_no_sample_file_means_no_samples(tmp_path: Path) -> None:
    # A refresh whose provider host exited before the sampler's first write (`make bench`
    # ended in KeyError: 'interval' after four minutes of measuring).
    assert _merge_samples(tmp_path) is None


def test_sample_files_of_every_host_are_summed(tmp_path: Path) -> None:
    for pid, busy in ((1, 3), (2, 4)):
        data = {"busy": busy, "interval": 0.002, "inclusive": {"a": busy}, "leaf": {"b": 1}}
        (tmp_path / f"samples-{pid}.json").write_text(json.dumps(data))
    assert _merge_samples(tmp_path) == {"busy": 7, "interval": 0.002, "inclusive": {"a": 7}, "leaf": {"b": 2}}
