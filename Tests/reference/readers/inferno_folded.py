"""Mirror of how inferno's flamegraph (inferno-flamegraph) reads folded stacks.

Source (behaviour mirrored in my own code, nothing copied):
  github.com/jonhoo/inferno @ 929be68e19a27da062623c6da5255e8b96faebbc,
  src/flamegraph/mod.rs (from_readers, from_lines) and
  src/flamegraph/merge.rs (frames, parse_nsamples, rfind_samples).
  Defaults: lines sorted, no --reverse, no --flamechart, no --base.

What it does, in my words:

* Every input is read whole into one Rust String: input that is not UTF-8
  fails the whole run ("stream did not contain valid UTF-8").
* The text is cut into lines at "\\n" (a "\\r" right before it goes too);
  each line is trimmed of Unicode whitespace (Rust's char::is_whitespace)
  at both ends; empty lines and lines starting with "# " are dropped
  unseen; the rest are sorted.
* The count is what follows the LAST space (only U+0020: a tab is no
  separator): all ASCII digits, optionally with one "." and more digits
  (the fraction is cut off, with a warning). No space, or anything else
  after it, or an empty count, or one beyond 2^64-1: the line is ignored
  and counted. The rest of the line is then trimmed at its end.
* If the rest again ends in a space and such a number, the line is a
  differential one: that number is the first count, the width drawn is the
  count at the end, and the stack loses that tail.
* A line whose stack is then empty is ignored. The stack is split at ";",
  every field kept (empty ones too).
* Equal stacks add up (flow() keeps frames open across sorted lines), and
  the run fails ("No stack counts found") when the total is 0. The total is
  an unsigned 64-bit sum.

parse(text) returns ({frames tuple, root first: total}, problems).
"""

__all__ = ["parse", "RUST_WHITESPACE"]

# char::is_whitespace: Unicode White_Space.
RUST_WHITESPACE = "\t\n\x0b\x0c\r \x85\xa0\u1680" + "".join(chr(c) for c in range(0x2000, 0x200B)) + \
    "\u2028\u2029\u202f\u205f\u3000"


def _rfind_samples(line):
    """(start of the count, end of its integer part) or None."""
    space = line.rfind(" ")
    if space < 0:
        return None
    start = space + 1
    samples = line[start:]
    dot = samples.find(".")
    if dot >= 0:
        if all(c in "0123456789" for c in samples[:dot] + samples[dot + 1:]):
            return start, dot
        return None
    if not all(c in "0123456789" for c in samples):
        return None
    return start, len(samples)


def _parse_nsamples(line):
    """(count, rest of the line) or None, as parse_nsamples."""
    found = _rfind_samples(line)
    if found is None:
        return None
    start, end = found
    digits = line[start:start + end]
    if digits == "" or int(digits) > 2 ** 64 - 1:
        return None
    return int(digits), line[:start].rstrip(RUST_WHITESPACE)


def _lines(text):
    pieces = text.split("\n")
    if pieces and pieces[-1] == "":
        pieces.pop()
    return [p[:-1] if p.endswith("\r") else p for p in pieces]


def parse(text):
    """How inferno reads folded text (str or bytes).

    Returns (stacks, problems): stacks maps a tuple of frame names (root
    first) to its total; problems lists a text that is not UTF-8, every line
    ignored or read as differential, and a total of 0 or beyond 2^64-1.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as e:
            return {}, ["not UTF-8 (%s): inferno reads nothing" % e]
    stacks, problems = {}, []
    kept = []
    for number, line in enumerate(_lines(text), 1):
        line = line.strip(RUST_WHITESPACE)
        if line == "":
            continue
        if line.startswith("# "):
            problems.append("line %d: dropped as a comment: %r" % (number, line[:200]))
            continue
        kept.append((line, number))
    kept.sort()
    total = 0
    for line, number in kept:
        first = _parse_nsamples(line)
        if first is None:
            problems.append("line %d: ignored (invalid format): %r" % (number, line[:200]))
            continue
        count, rest = first
        second = _parse_nsamples(rest)
        if second is not None:
            problems.append("line %d: read as differential (two counts): %r" % (number, line[:200]))
            rest = second[1]
        if rest == "":
            problems.append("line %d: ignored (no stack): %r" % (number, line[:200]))
            continue
        frames = tuple(rest.split(";"))
        stacks[frames] = stacks.get(frames, 0) + count
        total += count
    if total == 0:
        problems.append("no stack counts found (total 0): inferno fails")
    elif total > 2 ** 64 - 1:
        problems.append("total %d is beyond 2^64-1: inferno's sum wraps" % total)
    return stacks, problems
