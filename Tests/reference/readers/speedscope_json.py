"""Mirror of how speedscope opens a file in its own JSON format.

Source (behaviour mirrored in my own code, nothing copied):
  github.com/jlfwong/speedscope @ 3613918de0dd55a263d0d04f85b0c8c2039c7bee,
  src/lib/file-format-spec.ts (the format), src/lib/file-format.ts
  (importSpeedscopeProfiles, importSpeedscopeProfile), src/lib/profile.ts
  (StackListProfileBuilder: appendSampleWithWeight, _appendSample, build),
  src/import/index.ts (which files are read this way).

What speedscope does, in my words:

* A file is read as this format when its name ends in ".speedscope.json",
  or, whatever its name, when it parses as JSON whose "$schema" is
  "https://www.speedscope.app/file-format-schema.json".
* The group's name is the file's "name" if it is a non-empty string, else
  the first profile's name if non-empty, else "profile"; with no profile
  and no name the import throws (it reads profiles[0].name).
  "activeProfileIndex" (0 when missing or 0) picks the profile shown first.
* Frames are shared.frames; frame i is known by its index alone, so two
  entries with the same name are two frames. A sample's stack lists frame
  indices root first; an index outside the list makes the import throw.
* A "sampled" profile throws when samples and weights differ in length.
  Each sample is then appended with its weight: a weight of exactly 0 is
  ignored, a negative weight throws ("Samples must have positive
  weights"), NaN throws. Stacks are summed per path of frames (the
  "left heavy" tree); in the time-order tree, a sample whose path is the
  same as the one before it adds to it instead of making a new node.
* The profile's total weight is the larger of endValue - startValue and
  the sum of the weights; "unit" picks how numbers are shown: a time unit,
  "bytes", or "none" for raw numbers.
* "evented" profiles are not mirrored here (flameconv writes none).
"""
import json
import math

__all__ = ["SCHEMA_URL", "ReaderFailure", "is_speedscope", "read", "read_file"]

SCHEMA_URL = "https://www.speedscope.app/file-format-schema.json"
TIME_UNITS = ("nanoseconds", "microseconds", "milliseconds", "seconds")


class ReaderFailure(Exception):
    """speedscope would throw on this input."""


def is_speedscope(name, text):
    """Would speedscope read this file as its own format?"""
    if name.endswith(".speedscope.json"):
        return True
    try:
        parsed = json.loads(text)
    except ValueError:
        return False
    return isinstance(parsed, dict) and parsed.get("$schema") == SCHEMA_URL


def _truthy_string(value):
    return isinstance(value, str) and value != ""


def _number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _profile(serialized, frames):
    kind = serialized.get("type")
    if kind != "sampled":
        raise ReaderFailure("profile type %r is not mirrored" % (kind,))
    samples = serialized["samples"]
    weights = serialized["weights"]
    if len(samples) != len(weights):
        raise ReaderFailure("Expected samples.length (%d) to equal weights.length (%d)"
                            % (len(samples), len(weights)))
    stacks = {}
    time_order = []
    for stack, weight in zip(samples, weights):
        if not _number(weight) or (isinstance(weight, float) and math.isnan(weight)):
            raise ReaderFailure("invalid weight %r" % (weight,))
        for index in stack:
            if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(frames):
                raise ReaderFailure("frame index %r is not in shared.frames" % (index,))
        if weight == 0:
            continue
        if weight < 0:
            raise ReaderFailure("Samples must have positive weights")
        key = tuple(stack)
        stacks[key] = stacks.get(key, 0) + weight
        if time_order and time_order[-1][0] == key:
            time_order[-1][1] += weight
        else:
            time_order.append([key, weight])
    total = sum(weights)
    span = serialized["endValue"] - serialized["startValue"]
    unit = serialized.get("unit")
    return {
        "name": serialized.get("name"),
        "unit": unit if unit in TIME_UNITS + ("bytes", "none") else None,
        "total_weight": max(span, total),
        # Per path of frame names (root first), for comparing with other outputs.
        "stacks": _by_names(stacks, frames),
        "by_index": stacks,
        "time_order": [(k, w) for k, w in time_order],
    }


def _by_names(stacks, frames):
    named = {}
    for key, weight in stacks.items():
        names = tuple(frames[i]["name"] for i in key)
        named[names] = named.get(names, 0) + weight
    return named


def read(parsed):
    """The profile group speedscope makes of a parsed file: its name, the
    profile shown first, and per profile its name, unit, total weight, the
    weight per stack (by frame names and by frame indices) and the samples
    of the time-order view."""
    if not isinstance(parsed, dict):
        raise ReaderFailure("not a JSON object")
    profiles = parsed.get("profiles")
    frames = parsed.get("shared", {}).get("frames")
    if not isinstance(profiles, list) or not isinstance(frames, list):
        raise ReaderFailure("profiles or shared.frames missing")
    name = parsed.get("name")
    if not _truthy_string(name):
        if not profiles:
            raise ReaderFailure("no name and no profile to take one from")
        name = profiles[0].get("name") if _truthy_string(profiles[0].get("name")) else "profile"
    return {
        "name": name,
        "index_to_view": parsed.get("activeProfileIndex") or 0,
        "profiles": [_profile(p, frames) for p in profiles],
    }


def read_file(path):
    with open(path, "rb") as f:
        return read(json.loads(f.read().decode("utf-8")))
