"""flameconv's compressed perf text, opened as the FlameScope fork opens it.

The fork (ebegumisa/flamescope, branch master_mo, app/common/fileutil.py
get_file) asks libmagic for the file's MIME type, from its bytes, not its
name: 'application/gzip' (or 'application/x-gzip') is opened with Python's
gzip.open(path, 'rt'), 'text/plain' with open(path); any other type, zstd's
included, is refused ('Unknown mime type'). Python's gzip reads every member
of a multi-member file.

For every real capture in Fixtures/captures and both dialects,
`flameconv convert -o x.perf.gz` with 4 KiB gzip members (many members even
from these small captures) must:
  * be typed application/gzip by `file --mime-type` (libmagic, what the
    fork's python-magic calls), when `file` is installed;
  * hold several members (counted with zlib), which Python's gzip reads
    whole: exactly the text of `-o x.perf`;
  * read in the fork mirror as the plain text does (events, totals).
And `-o x.perf.zst` decompresses (`zstd -dc`) to the same text, while the
fork would refuse it: zstd is for other readers.

    python3 -m pytest -q -c Tests/reference/pytest.ini Tests/reference/test_compressed_output.py
"""
import gzip
import os
import shutil
import subprocess
import sys
import zlib

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from readers import flamescope_fork as fork  # noqa: E402
import fork_totals  # noqa: E402
# flameconv is that module's fixture: imported, pytest finds it here by name.
from test_flameconv_output import flameconv, capture_names, CAPTURES  # noqa: E402,F401

NAMES = capture_names()
pytestmark = pytest.mark.skipif(not NAMES, reason="no Fixtures/captures")


def convert(flameconv, capture, out, *extra):
    p = subprocess.run([flameconv, "convert", "--quiet", os.path.join(CAPTURES, capture), "-o", str(out)] + list(extra),
                       capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    with open(out, "rb") as f:
        return f.read()


def gzip_members(data):
    """How many gzip members `data` holds, each checked by zlib to its end."""
    count = 0
    while data:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        d.decompress(data)
        assert d.eof, "a member does not end"
        data = d.unused_data
        count += 1
    return count


@pytest.mark.parametrize("dialect", ["portable", "flame_prof"])
@pytest.mark.parametrize("name", NAMES)
def test_gz_perf_reads_in_flamescope_fork(flameconv, tmp_path, name, dialect):
    plain = convert(flameconv, name, tmp_path / "x.perf", "--dialect", dialect)
    gz = tmp_path / "x.perf.gz"
    data = convert(flameconv, name, gz, "--dialect", dialect, "--gzip-block-size", "4096", "--threads", "2")
    assert gzip_members(data) == -(-len(plain) // 4096) > 1
    if shutil.which("file"):
        mime = subprocess.run(["file", "--brief", "--mime-type", str(gz)], capture_output=True, text=True).stdout.strip()
        assert mime in ("application/gzip", "application/x-gzip"), mime
    # As get_file opens it: text mode, universal newlines.
    with gzip.open(gz, "rt") as f:
        text = f.read()
    assert text.encode() == plain
    with open(tmp_path / "x.perf") as f:
        plain_text = f.read()
    assert fork.is_perf_file(text)
    events = fork.parse(text)
    assert len(events) > 1
    assert fork_totals.totals(events) == fork_totals.totals(fork.parse(plain_text))


@pytest.mark.parametrize("name", NAMES)
def test_zst_perf_is_the_same_text(flameconv, tmp_path, name):
    zstd = shutil.which("zstd")
    if zstd is None:
        if os.environ.get("CI") == "true":
            pytest.fail("zstd is missing: CI must install it (scripts/install-deps.sh)")
        pytest.skip("zstd not installed")
    plain = convert(flameconv, name, tmp_path / "x.perf")
    data = convert(flameconv, name, tmp_path / "x.perf.zst")
    assert data[:4] == b"\x28\xb5\x2f\xfd"
    p = subprocess.run([zstd, "-dc", str(tmp_path / "x.perf.zst")], capture_output=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout == plain
