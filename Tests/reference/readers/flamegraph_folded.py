"""Mirror of how Brendan Gregg's flamegraph.pl reads folded stacks (default options).

Source (behaviour mirrored in my own code, nothing copied):
  github.com/brendangregg/FlameGraph @ 41fee1f99f9276008b7cd112fca19dc3ea84ac32,
  flamegraph.pl, the "parse input" and "process and merge frames" parts and
  flow(). Defaults: no --reverse, no --flamechart, no --colors chain.

What it does, in my words (Perl on bytes without a decoding layer, so \\s and
\\d are ASCII only):

* The input is split at "\\n"; each line loses its final "\\n" (chomp) and
  nothing else: a "\\r" stays part of the line.
* The lines are sorted by byte order (so equal stacks sit next to each
  other), then each is matched against: anything (greedy), ONE whitespace
  character, digits with an optional "." and more digits, end of line. A
  line that does not match is ignored and counted ("Ignored N lines with
  invalid format"). Since the first part is greedy, the count is what
  follows the LAST whitespace; blanks inside frame names are fine.
* If the stack part itself again ends in whitespace and a number, the line
  is read as a differential one: that number is the first count, the one at
  the end the second, and the stack loses that tail. The width drawn is the
  second (last) count.
* The stack is split at ";" with Perl's split: trailing empty fields vanish
  (so "a;b;" is "a;b"), empty fields elsewhere stay, and an empty stack has
  no frames.
* Equal stacks (after splitting) add up: flow() keeps a frame open while
  the next sorted line shares it, so a stack's width is the sum of the
  counts of every line that reads as it. A count of 0 is accepted and draws
  nothing (its frames are narrower than the minimum width).
* Counts add up as Perl numbers (doubles). If the total is 0 the output is
  an error image ("No valid input provided") and exit status 2.

parse(text) returns ({frames tuple, root first: total}, problems).
"""
import re

__all__ = ["parse", "split_frames"]

LINE_RE = re.compile(rb"^(.*)\s+?(\d+(?:\.\d*)?)$", re.ASCII)


def _number(raw):
    return float(raw) if b"." in raw else int(raw)


def split_frames(stack):
    """Perl's split(";", $stack): trailing empty fields removed."""
    parts = stack.split(b";")
    while parts and parts[-1] == b"":
        parts.pop()
    return parts


def parse(text):
    """How flamegraph.pl reads folded text (str or bytes).

    Returns (stacks, problems): stacks maps a tuple of frame names (str,
    decoded as UTF-8 with replacement, root first) to its total; problems
    lists every line that was ignored or read as differential, and a total
    of 0.
    """
    data = text.encode("utf-8") if isinstance(text, str) else text
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the text after the last "\n": no line
    stacks, problems = {}, []
    total = 0
    for number, line in sorted(enumerate(lines, 1), key=lambda nl: nl[1]):
        m = LINE_RE.match(line)
        if m is None:
            problems.append("line %d: ignored (invalid format): %r" % (number, line[:200]))
            continue
        stack, count = m.group(1), _number(m.group(2))
        m2 = LINE_RE.match(stack)
        if m2 is not None:
            problems.append("line %d: read as differential (two counts): %r" % (number, line[:200]))
            stack = m2.group(1)
        frames = tuple(f.decode("utf-8", "replace") for f in split_frames(stack))
        stacks[frames] = stacks.get(frames, 0) + count
        total += count
    if total == 0:
        problems.append("no stack counts found (total 0): flamegraph.pl draws an error image")
    return stacks, problems
