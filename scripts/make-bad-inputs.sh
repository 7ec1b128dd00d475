#!/usr/bin/env bash
# Makes the bad-input corpus in Fixtures/bad/ from the real captures in
# Fixtures/captures/: truncations, bit flips, decompression bombs, 4 GiB length
# claims, invalid atoms, unknown tags, damaged gzip and zstd, things that are no
# dump at all. Writes cases.tsv (read by Tests/HardeningTests) and README.md.
# Idempotent and deterministic (gzip -n, fixed zstd level); the folder is emptied first.
#
# Big cases (an honest 64 MiB compressed term, a million levels of nesting, every
# truncation point) are made by the tests at run time, not committed.
#
# Usage: scripts/make-bad-inputs.sh      Needs: python3, gzip, zstd.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/Fixtures/bad"
rm -rf "$OUT"
mkdir -p "$OUT"
python3 - "$ROOT" "$OUT" <<'PY'
import os, struct, subprocess, sys, zlib

root, out = sys.argv[1], sys.argv[2]

def frames_of(data):
    i, res = 0, []
    while i < len(data):
        n = struct.unpack('>I', data[i:i + 4])[0]
        res.append(data[i + 4:i + 4 + n]); i += 4 + n
    return res

def frame(term): return struct.pack('>I', len(term)) + term
def framed(terms): return b''.join(frame(t) for t in terms)
def offsets(terms):
    at, res = 0, []
    for t in terms: res.append(at); at += 4 + len(t)
    return res

# Base dumps: a real capture's header, its first three ticks and its trailer.
rot = frames_of(open(f'{root}/Fixtures/captures/rotated/rotated-000004.flame', 'rb').read())
base_terms = rot[:4] + rot[-1:]
base = framed(base_terms)
bo = offsets(base_terms)           # frame starts: header, tick 1..3, trailer
cmp_ = frames_of(open(f'{root}/Fixtures/captures/compressed/compressed-000000.flame', 'rb').read())
cbase_terms = cmp_[:4] + cmp_[-1:]  # header, tick, system, tick, trailer; every one term_to_binary(T, [compressed])
cbase = framed(cbase_terms)
co = offsets(cbase_terms)

# ETF building blocks.
def atom(name): b = name.encode(); return bytes([119, len(b)]) + b
def small_int(n): return bytes([97, n])
def tuple_(*els): return bytes([104, len(els)]) + b''.join(els)
def pid(): return bytes([88]) + atom('a@b') + struct.pack('>III', 85, 0, 0)
def samples_with(items):
    """{samples, 1, [{<a@b.85.0>, Items}]} where Items is raw list bytes."""
    return bytes([131]) + tuple_(atom('samples'), small_int(1), bytes([108, 0, 0, 0, 1]) + tuple_(pid(), items) + bytes([106]))
def item_list(*items): return bytes([108]) + struct.pack('>I', len(items)) + b''.join(items) + bytes([106])
def system_with(value): return bytes([131]) + tuple_(atom('system'), small_int(1), value)

cases = []   # (name, data, convert_exit, inspect_exit, offset, reason, prefix_of, prefix_len, how)
def case(name, data, convert_exit, inspect_exit, offset, reason, how, prefix_of='-', prefix_len=-1):
    with open(os.path.join(out, name), 'wb') as f: f.write(data)
    cases.append((name, convert_exit, inspect_exit, offset, reason, prefix_of, prefix_len, how))

def insert_at(k, term, how, name, reason, convert_exit=2, inspect_exit=1, salvage=True):
    """A bad frame after the header and k ticks: ticks before it are salvaged."""
    at = bo[k + 1]
    # The offset must point into the bad term (how far in depends on where the reader notices).
    case(name, base[:at] + frame(term) + base[at:], convert_exit, inspect_exit, f'{at + 4}..{at + 4 + len(term)}', reason, how,
         'base.flame' if salvage else '-', at if salvage else -1)

def run(tool, data): return subprocess.run(tool, input=data, capture_output=True, check=True).stdout

# The good inputs the bad ones are made from (the tests convert their prefixes).
case('base.flame', base, 0, 0, -1, '', 'good: header, first 3 ticks and trailer of Fixtures/captures/rotated/rotated-000004.flame')
concat = b''.join(base_terms)
co_cat = [sum(len(t) for t in base_terms[:k]) for k in range(len(base_terms))]
case('concat.flame', concat, 0, 0, -1, '', 'good: base.flame\'s terms concatenated without length prefixes')
case('base-compressed.flame', cbase, 0, 0, -1, '', 'good: header, tick, system, tick, trailer of Fixtures/captures/compressed (every term compressed)')

# Not a dump at all.
case('empty.flame', b'', 1, 1, 0, 'the file is empty', 'an empty file')
png = bytes.fromhex('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489')
case('not-a-dump.png', png, 1, 1, 0, 'frame length 2303741511 is over the limit', 'a PNG signature and IHDR chunk (33 bytes)')
case('not-a-dump.txt', b'This is not a flame dump.\n', 1, 1, 0, 'frame length 1416128883 is over the limit', 'a line of text')
wrong_version = bytearray(base); i = base.index(b'flame_dump') + len(b'flame_dump'); assert wrong_version[i:i + 2] == small_int(1); wrong_version[i + 1] = 2
case('header-version-2.flame', bytes(wrong_version), 1, 0, 4, 'not a flame dump', 'header says {flame_dump, 2, ...}: a format version this reader does not know')
flip_header = bytearray(base); j = base.index(b'flame_dump'); flip_header[j + 9] ^= 0x01
case('bitflip-header-atom.flame', bytes(flip_header), 1, 0, 4, 'not a flame dump', 'bit 0 of the header atom\'s last letter flipped: flame_dumd')

# Truncation at and inside frames.
case('trunc-in-header.flame', base[:bo[1] - 100], 1, 1, 0, 'truncated: the stream ends 100 bytes before the end of this frame', 'cut 100 bytes before the end of the header frame')
case('trunc-after-header.flame', base[:bo[1]], 0, 0, -1, 'no trailer', 'cut right after the header frame: no ticks, no trailer', 'base.flame', bo[1])
case('trunc-in-length.flame', base[:bo[2] + 2], 2, 1, bo[2], r'truncated: .*\(2 of 4 bytes present\)', 'cut 2 bytes into the second tick\'s length prefix', 'base.flame', bo[2])
case('trunc-mid-frame.flame', base[:bo[2] + 1000], 2, 1, bo[2], r'truncated: .*\(1000 of \d+ bytes present\)', 'cut 996 bytes into the second tick\'s term', 'base.flame', bo[2])
case('trunc-at-boundary.flame', base[:bo[4]], 0, 0, -1, 'no trailer: the file was cut short', 'cut at the frame boundary before the trailer', 'base.flame', bo[4])
case('trunc-last-byte.flame', base[:-1], 2, 1, bo[4], 'truncated: the stream ends 1 bytes before the end of this frame', 'the last byte removed (inside the trailer)', 'base.flame', bo[4])
case('concat-trunc-mid-term.flame', concat[:co_cat[2] + 500], 2, 1, co_cat[2], 'truncated', 'concat.flame cut 500 bytes into the second tick', 'concat.flame', co_cat[2])
case('trailing-garbage.flame', base + b'garbage!', 2, 1, len(base), 'frame length 1734439522 is over the limit', 'eight bytes of text after the trailer', 'base.flame', len(base))

# Frame lengths that lie.
case('frame-length-zero.flame', base[:bo[2]] + b'\0\0\0\0' + base[bo[2]:], 2, 1, bo[2], 'frame length is 0', 'a zero length prefix inserted before the second tick', 'base.flame', bo[2])
case('frame-length-4gib.flame', base[:bo[2]] + b'\xff\xff\xff\xff' + base[bo[2] + 4:], 2, 1, bo[2], 'frame length 4294967295 is over the limit of 134217728 bytes', 'the second tick\'s length prefix set to 0xFFFFFFFF', 'base.flame', bo[2])
longer = bytearray(base); n = struct.unpack('>I', base[bo[2]:bo[2] + 4])[0]; longer[bo[2]:bo[2] + 4] = struct.pack('>I', n + 16)
case('frame-length-16-more.flame', bytes(longer), 2, 1, f'{bo[2] + 4}..{bo[3] + 16}', 'bytes follow the term inside its frame', 'the second tick\'s length prefix 16 more than its term', 'base.flame', bo[2])

# Bit flips inside ticks.
flip_tag = bytearray(base); flip_tag[bo[2] + 5] = 200   # the tuple tag right after the version byte
case('bitflip-tick-tag.flame', bytes(flip_tag), 2, 1, bo[2] + 5, 'unknown tag', 'the second tick\'s outer tuple tag (104) overwritten with 200', 'base.flame', bo[2])
flip_ver = bytearray(base); flip_ver[bo[2] + 4] ^= 0x80   # 131 -> 3
case('bitflip-version-byte.flame', bytes(flip_ver), 2, 1, bo[2] + 4, 'not an external term: first byte is 3', 'bit 7 of the second tick\'s version byte flipped (131 -> 3)', 'base.flame', bo[2])
cz = bytearray(cbase); cz[co[3] + 4 + 6 + 200] ^= 0x10   # inside the zlib data of the second tick
case('bitflip-compressed-term.flame', bytes(cz), 2, 1, f'{co[3] + 4}..{co[4]}', 'corrupt zlib data|compressed term declares', 'bit 4 of a byte in the middle of a compressed tick\'s zlib data flipped', 'base-compressed.flame', co[3])

# Decompression bombs.
insert_at(1, bytes([131, 80]) + b'\xff\xff\xff\xff' + zlib.compress(b'\x6a'), 'a compressed term (tag 80) declaring 4 GiB after the first tick', 'bomb-declares-4gib.flame', 'compressed term declares 4294967295 bytes, over the limit of 268435456')
insert_at(1, bytes([131, 80]) + struct.pack('>I', 100) + zlib.compress(bytes([109]) + struct.pack('>I', 16 << 20) + bytes(16 << 20), 9), 'a compressed term declaring 100 bytes whose zlib data inflates to 16 MiB (16 KiB on disk)', 'bomb-lies-about-size.flame', 'compressed term declares 100 bytes but inflates to more')

# 4 GiB length claims, as whole terms (decoder) and inside a tick (the samples fast path).
claims = {
    'list': bytes([108]) + b'\xff\xff\xff\xff' + bytes([106]),
    'tuple': bytes([105]) + b'\xff\xff\xff\xff' + small_int(1),
    'binary': bytes([109]) + b'\xff\xff\xff\xff' + b'abc',
    'bignum': bytes([111]) + b'\xff\xff\xff\xff' + bytes([0, 1, 2, 3]),
    'map': bytes([116]) + b'\xff\xff\xff\xff' + atom('k') + atom('v'),
    'string': bytes([107, 0xff, 0xff]) + b'ab',
    'atom': bytes([118, 0xff, 0xff]) + b'ab',
}
for kind, bad in claims.items():
    insert_at(1, system_with(bad), f'{{system, 1, X}} after the first tick, X a {kind} claiming {"65535" if kind in ("string", "atom") else "4294967295"} elements or bytes', f'claim-{kind}.flame', 'exceeds the|input ends early: 65535 more bytes needed')
    insert_at(1, samples_with(item_list(tuple_(atom('registered_name'), bad))), f'a tick after the first whose registered_name is a {kind} with the same claim (samples fast path)', f'claim-{kind}-in-tick.flame', 'exceeds the|input ends early: 65535 more bytes needed')
insert_at(1, bytes([131]) + tuple_(atom('samples'), small_int(1), bytes([108]) + b'\xff\xff\xff\xff' + bytes([106])), 'a tick whose process list claims 4294967295 entries', 'claim-samples-list.flame', 'exceeds the|input ends early: 65535 more bytes needed')

# Atoms and tags a reader cannot know.
insert_at(1, system_with(bytes([118, 0, 2, 0xff, 0xfe])), '{system, 1, A} with A an ATOM_UTF8_EXT of bytes FF FE', 'atom-bad-utf8.flame', 'atom is not valid UTF-8')
insert_at(1, samples_with(item_list(tuple_(atom('registered_name'), bytes([119, 2, 0xc3, 0x28])))), 'a tick whose registered_name is the SMALL_ATOM_UTF8_EXT C3 28 (a broken 2-byte sequence)', 'atom-bad-utf8-in-tick.flame', 'skipped 1 sample: atom is not valid UTF-8', convert_exit=0, inspect_exit=1, salvage=False)
# A bad sample is skipped and counted by reason, without its file or offset (convert's summary).
cases[-1] = cases[-1][:3] + ('unnamed',) + cases[-1][4:]
insert_at(1, system_with(bytes([200, 1, 2, 3])), '{system, 1, X} with X starting with tag 200', 'unknown-tag.flame', 'unknown tag')
insert_at(1, samples_with(item_list(tuple_(atom('status'), bytes([200, 1, 2, 3])))), 'a tick whose status value starts with tag 200', 'unknown-tag-in-tick.flame', 'unknown tag')
future = bytes([131]) + tuple_(atom('flame_future_term'), small_int(1))
case('unknown-term-kind.flame', base[:bo[2]] + frame(future) + base[bo[2]:], 0, 0, -1, 'skipped 1 terms of unknown kinds',
     'an unknown but well-formed term {flame_future_term, 1} after the first tick: skipped, everything converted', 'base.flame', len(base))

# Damaged gzip and zstd containers (gzip -n, zstd -3 with its default checksum).
gz = run(['gzip', '-c', '-n', '-9'], base)
case('gzip-truncated.flame.gz', gz[:len(gz) // 2], 2, 1, 'decoder', 'the file ends inside a gzip member', 'gzip -9 -n of base.flame, cut to half', 'base.flame', -2)
gzc = bytearray(gz); gzc[len(gz) // 2] ^= 0xff
case('gzip-corrupt.flame.gz', bytes(gzc), 2, 1, 'decoder', 'gzip data is damaged at byte', 'gzip of base.flame with the middle byte inverted', 'base.flame', -2)
gzcrc = bytearray(gz); gzcrc[-8] ^= 0x01
case('gzip-bad-crc.flame.gz', bytes(gzcrc), 2, 1, 'decoder', 'gzip data is damaged at byte .*incorrect data check', 'gzip of base.flame with a bit of the CRC-32 flipped', 'base.flame', -2)
case('gzip-header-only.flame.gz', gz[:10], 1, 1, 0, 'the file ends inside a gzip member', 'only the 10-byte gzip header')
# zstd decodes whole 128 KiB blocks: use the whole plain capture (416 KB, several blocks).
plain = open(f'{root}/Fixtures/captures/plain/plain-000000.flame', 'rb').read()
zs = run(['zstd', '-q', '-c', '-3'], plain)
case('zstd-truncated.flame.zst', zs[:len(zs) // 2], 2, 1, 'decoder', 'the file ends inside a zstd frame', 'zstd -3 of Fixtures/captures/plain/plain-000000.flame, cut to half', '../captures/plain/plain-000000.flame', -2)
zsc = bytearray(zs); zsc[len(zs) // 2] ^= 0xff
# zstd finds this damage only at the frame checksum, after the damaged block decoded to
# wrong bytes that still parse and were converted: the salvage cannot equal a good prefix.
case('zstd-corrupt.flame.zst', bytes(zsc), 2, 1, 'decoder', 'zstd data is damaged at byte', 'zstd of plain-000000.flame with the middle byte inverted (zstd notices only at the frame checksum, after the damaged block was converted: salvage not checked)')
zscrc = bytearray(zs); zscrc[-1] ^= 0x01
case('zstd-bad-checksum.flame.zst', bytes(zscrc), 2, 1, 'decoder', 'zstd data is damaged at byte .*checksum', 'zstd of plain-000000.flame with a bit of the content checksum flipped', '../captures/plain/plain-000000.flame', -2)
case('zstd-magic-only.flame.zst', zs[:4], 1, 1, 0, 'zstd', 'only the 4-byte zstd magic number')

with open(os.path.join(out, 'cases.tsv'), 'w') as f:
    f.write('# case\tconvert_exit\tinspect_exit\toffset\treason_regex\tprefix_of\tprefix_len\thow\n')
    for c in cases: f.write('\t'.join('-' if x == -1 and i == 3 else str(x) for i, x in enumerate(c)) + '\n')
PY
python3 - "$OUT" <<'PY'
import os, sys
out = sys.argv[1]
rows = [l.rstrip('\n').split('\t') for l in open(os.path.join(out, 'cases.tsv')) if not l.startswith('#')]
with open(os.path.join(out, 'README.md'), 'w') as f:
    f.write('''# Bad inputs

Made by `scripts/make-bad-inputs.sh` from the real captures in `Fixtures/captures/`
(it empties this folder and rewrites everything, this README included).
`cases.tsv` holds the same table for `Tests/HardeningTests`, which runs
`flameconv convert` and `flameconv inspect` on every case under `ulimit -v 524288`
and a 10 s timeout and checks: the exit status; that standard error names the
file, the byte offset and the reason; that what was salvaged equals converting
(or printing) the good prefix; no crash signal; no leftover `.partial-` file.

Exit status of `convert`: 0 converted (perhaps with warnings), 2 a damaged tail
but what came before it was converted, 1 unreadable or not a dump. `inspect`: 0
or 1. Offsets are in the decompressed stream: `-` none (a warning about the
whole file), `unnamed` (a skipped sample: counted by reason, file and offset not
given), `N` exactly, `A..B` somewhere in the
bad term (where depends on the byte at which the reader notices), `decoder`
wherever the gzip/zstd decoder gives up; the salvage is then checked against the
whole frames before the offset the message reports. The message is `flameconv: error|warning: FILE:
offset N: REASON`; the table gives a part of REASON (a regular expression).

Made at test time instead of committed (too big, or too many): every
truncation point of `base.flame`; an honest 64 MiB compressed term; a term
nested a million levels deep (in a tick and as a whole term); 3 million levels
(over `--max-depth`); a 100 MB input for the SIGINT/SIGTERM tests.

| case | how made | convert exit | inspect exit | offset | message (reason) | salvage = converting |
| --- | --- | --- | --- | --- | --- | --- |
''')
    for name, cexit, iexit, offset, reason, prefix_of, prefix_len, how in rows:
        salvage = '-' if prefix_of == '-' else (f'`{prefix_of}` up to the reported offset' if prefix_len == '-2' else f'first {prefix_len} bytes of `{prefix_of}`')
        off = {'-1': '-'}.get(offset, offset)
        f.write(f'| `{name}` | {how} | {cexit} | {iexit} | {off} | {reason.replace("|", " or ") or "-"} | {salvage} |\n')
PY
du -sh "$OUT"
