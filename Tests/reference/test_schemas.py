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


# The convert config file: schemas/convert-config.schema.json against the files
# in testdata/configs/. good-*.json must validate; bad-*.json must not: a
# bad-syntax-* file is not even strict JSON, a bad-program-* file passes the
# schema and only flameconv rejects it (what a schema cannot say, such as
# thresholds in increasing order). FlameModelTests (ConvertConfigTests) reads
# the same files through flameconv's own parser and validator and expects the
# same verdicts, so the two validators agree on every file here.
CONFIG_SCHEMA = os.path.join(ROOT, "schemas", "convert-config.schema.json")
CONFIGS = os.path.join(ROOT, "Tests", "reference", "testdata", "configs")
CONFIG_FILES = sorted(f for f in os.listdir(CONFIGS) if f.endswith(".json"))


def strict_json(path):
    """json.loads as strict as RFC 8259: UTF-8 without a byte order mark, no
    NaN or Infinity, no key twice in an object."""
    def pairs(items):
        keys = [key for key, _ in items]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key in an object")
        return dict(items)

    def constant(name):
        raise ValueError(f"{name} is not JSON")

    with open(path, "rb") as f:
        text = f.read().decode("utf-8")
    return json.loads(text, object_pairs_hook=pairs, parse_constant=constant)


def config_validator():
    schema = json.load(open(CONFIG_SCHEMA))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_convert_config_schema_is_a_draft_2020_12_schema():
    schema = json.load(open(CONFIG_SCHEMA))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)

    # Every property the schema declares says what it is for (an "if" only
    # tests a property, so it is left out).
    def walk(node, where):
        if isinstance(node, dict):
            for name, sub in node.get("properties", {}).items():
                assert isinstance(sub, dict) and sub.get("description"), f"{where}.properties.{name} has no description"
            for key, sub in node.items():
                if key != "if":
                    walk(sub, f"{where}.{key}")
        elif isinstance(node, list):
            for index, sub in enumerate(node):
                walk(sub, f"{where}[{index}]")
    walk(schema, "$")


def test_config_files_are_named_good_or_bad():
    assert CONFIG_FILES
    for name in CONFIG_FILES:
        assert name.startswith("good-") or name.startswith("bad-"), name


@pytest.mark.parametrize("name", [f for f in CONFIG_FILES if f.startswith("good-")])
def test_good_config_validates(name):
    config_validator().validate(strict_json(os.path.join(CONFIGS, name)))


@pytest.mark.parametrize("name", [f for f in CONFIG_FILES if f.startswith("bad-syntax-")])
def test_bad_syntax_config_is_not_json(name):
    with pytest.raises(ValueError):
        strict_json(os.path.join(CONFIGS, name))


@pytest.mark.parametrize("name", [f for f in CONFIG_FILES if f.startswith("bad-program-")])
def test_bad_program_config_passes_the_schema(name):
    config_validator().validate(strict_json(os.path.join(CONFIGS, name)))


@pytest.mark.parametrize("name", [f for f in CONFIG_FILES if f.startswith("bad-")
                                  and not f.startswith(("bad-syntax-", "bad-program-"))])
def test_bad_config_fails_the_schema(name):
    instance = strict_json(os.path.join(CONFIGS, name))
    assert not config_validator().is_valid(instance), f"{name} validates"
