#!/usr/bin/env bash
# Seed corpora for the fuzz targets, from the repository's fixtures:
#   corpus/FuzzETFDecode/   one file per distinct term of Fixtures/etf/*.etf (framed
#                           files: each frame's term bytes), plus the first terms of
#                           every capture, all at most MAX_LEN bytes;
#   corpus/FuzzDumpConvert/ small whole dumps: the head of each capture re-framed
#                           (header, a few ticks, trailer), plain/gzip/zstd, the
#                           same terms concatenated, and Fixtures/bad/*.
# Idempotent; corpus/ is not committed (libFuzzer grows it while running).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
mkdir -p "$HERE/corpus/FuzzETFDecode" "$HERE/corpus/FuzzDumpConvert"
python3 - "$ROOT" "$HERE/corpus" <<'PY'
import glob, hashlib, os, struct, subprocess, sys
root, out = sys.argv[1], sys.argv[2]
MAX_ETF = 4096

def frames(data):
    i, res = 0, []
    while i + 4 <= len(data):
        n = struct.unpack('>I', data[i:i+4])[0]
        if i + 4 + n > len(data): break
        res.append(data[i+4:i+4+n]); i += 4 + n
    return res

def put(folder, data):
    name = hashlib.sha1(data).hexdigest()
    with open(os.path.join(out, folder, name), 'wb') as f: f.write(data)

etf = 0
for path in sorted(glob.glob(os.path.join(root, 'Fixtures/etf/*.etf'))):
    for t in frames(open(path, 'rb').read()):
        if len(t) <= MAX_ETF: put('FuzzETFDecode', t); etf += 1
dumps = 0
for path in sorted(glob.glob(os.path.join(root, 'Fixtures/captures/*/*.flame'))):
    fs = frames(open(path, 'rb').read())
    for t in fs[:3] + fs[-1:]:
        if len(t) <= MAX_ETF: put('FuzzETFDecode', t); etf += 1
    # header, two ticks, trailer: small enough for libFuzzer to mutate usefully
    small = [t for t in fs[:3] + fs[-1:]]
    framed = b''.join(struct.pack('>I', len(t)) + t for t in small)
    put('FuzzDumpConvert', framed)
    put('FuzzDumpConvert', b''.join(small))
    for tool in (['gzip', '-c', '-n'], ['zstd', '-q', '-c']):
        put('FuzzDumpConvert', subprocess.run(tool, input=framed, capture_output=True, check=True).stdout)
    dumps += 4
for path in sorted(glob.glob(os.path.join(root, 'Fixtures/bad/*'))):
    if os.path.isfile(path) and not path.endswith(('.md', '.tsv')) and os.path.getsize(path) <= 256 << 10:
        put('FuzzDumpConvert', open(path, 'rb').read()); dumps += 1
print(f'seeds: {etf} terms for FuzzETFDecode, {dumps} dumps for FuzzDumpConvert')
PY
