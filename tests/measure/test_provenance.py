"""Unit tier: what a result records about where it came from (pipeline/measure/provenance.py):
versions and source hashes, never the host's name."""

from __future__ import annotations

import json
import socket

from pipeline.core import freshness
from pipeline.core.registry import WORKLOADS_DIR
from pipeline.measure import hardware, provenance


def test_provenance_has_versions_hashes_and_no_hostname():
    files = [WORKLOADS_DIR / "mlp_digits" / "torch_impl.py"]
    block = provenance.collect(files, "smoke")
    assert block["source_sha256"] == {"workloads/mlp_digits/torch_impl.py": freshness.sha256(files[0])}
    assert block["versions"]["numpy"]
    assert set(block["git"]) == {"sha", "dirty"}
    text = json.dumps(block)
    hostname = socket.gethostname()
    if len(hostname) >= 4:
        assert hostname not in text
    assert hostname not in hardware.machine_id()


def test_provenance_records_the_instrument_that_measured():
    """The declared version and a digest of the measuring code, which another
    checkout of the same version with other measuring code would not share."""
    from pipeline.core import instruments

    block = provenance.collect([], "smoke")
    assert block["instrument"]["version"] == instruments.CURRENT.version
    assert len(block["instrument"]["sha256"]) == 64
    assert instruments.version_of({"provenance": block, "processes": []}) == instruments.CURRENT.version
