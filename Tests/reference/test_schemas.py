"""The schemas in schemas/ hold: stats --json output validates against its JSON
Schema for every real capture, and the dump format's Erlang type spec compiles."""
import json
import os
import shutil
import subprocess
import tempfile

import jsonschema
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CAPTURES = os.path.join(ROOT, "Fixtures", "captures")


def flameconv():
    for path in (os.environ.get("FLAMECONV"), ".build/debug/flameconv", ".build/release/flameconv"):
        if path and os.path.exists(os.path.join(ROOT, path)):
            return os.path.join(ROOT, path)
    subprocess.run(["swift", "build"], cwd=ROOT, check=True)
    return os.path.join(ROOT, ".build/debug/flameconv")


@pytest.mark.parametrize("capture", sorted(d for d in os.listdir(CAPTURES) if os.path.isdir(os.path.join(CAPTURES, d))))
def test_stats_json_matches_schema(capture):
    schema = json.load(open(os.path.join(ROOT, "schemas", "stats.schema.json")))
    out = subprocess.run([flameconv(), "stats", "--json", os.path.join(CAPTURES, capture)],
                         capture_output=True, check=True).stdout
    report = json.loads(out)
    jsonschema.validate(report, schema)
    (entry,) = report["captures"]
    assert entry["ticks"] > 0 and entry["samples"] >= entry["ticks"]
    assert "reductions" in entry["metrics"] and "minor_gcs" in entry["metrics"]


def test_dump_type_spec_compiles():
    if shutil.which("erlc") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("erlc is missing: CI must install erlang-nox (scripts/install-deps.sh)")
        pytest.skip("erlc not installed")
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(["erlc", "-Werror", "-o", out, os.path.join(ROOT, "schemas", "flame_dump_v1.erl")], check=True)
