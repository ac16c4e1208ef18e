"""Comparisons for tests/python/loader.sh. `eval C.json P.json`: chorus's and the loader's eval
lines have the same fields, equal except loss and the metric (relative 1e-5). `png A B`: two PNG
files hold the same pixels (decoded here: zlib and PNG's row filters). Exit 1 saying what differs."""
import json
import struct
import sys
import zlib

TOLERANCE = 1e-5
NUMERIC = ("loss", "bpc", "nll_per_frame")


def eval_lines(c_path, p_path):
    c = [json.loads(l) for l in open(c_path) if l.strip()]
    p = [json.loads(l) for l in open(p_path) if l.strip()]
    if len(c) != len(p):
        return "chorus printed %d lines, the loader %d" % (len(c), len(p))
    worst = 0.0
    for a, b in zip(c, p):
        if sorted(a) != sorted(b):
            return "fields differ: %s vs %s" % (sorted(a), sorted(b))
        for key in a:
            if key in NUMERIC:
                rel = abs(a[key] - b[key]) / max(abs(a[key]), 1e-30)
                worst = max(worst, rel)
                if rel > TOLERANCE:
                    return "%s: chorus %r, loader %r (relative %.2e)" % (key, a[key], b[key], rel)
            elif a[key] != b[key]:
                return "%s: chorus %r, loader %r" % (key, a[key], b[key])
    print("eval agrees: %d line(s), largest relative difference %.2e (%s)"
          % (len(c), worst, ", ".join("%s %.6g" % (k, c[0][k]) for k in NUMERIC if k in c[0])),
          file=sys.stderr)
    return ""


def png_pixels(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError(path + ": not a PNG file")
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = header
    if depth != 8 or color != 2 or interlace != 0:
        raise ValueError(path + ": not 8-bit RGB without interlace")
    raw, stride, bpp = zlib.decompress(idat), width * 3, 3
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1:
                line[x] = (line[x] + a) & 0xFF
            elif f == 2:
                line[x] = (line[x] + b) & 0xFF
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 0xFF
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows


def main():
    if sys.argv[1] == "eval":
        problem = eval_lines(sys.argv[2], sys.argv[3])
    else:
        a, b = png_pixels(sys.argv[2]), png_pixels(sys.argv[3])
        problem = "" if a == b else "%dx%d vs %dx%d, or the pixels" % (a[0], a[1], b[0], b[1])
    if problem:
        print("differs: " + problem, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
