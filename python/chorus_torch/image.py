"""Piano-roll frames as a PNG picture, drawn as chorus draws it (data/pianoroll_image.cpp): time left
to right, 4 px per frame, key 87 (C8) at the top, 3 px per key; notes black on white, a light band
on every C, grey beat lines (darker every 4 beats). Invariant: the same frames give the same pixels
as `chorus sample --image` (the compressed bytes may differ: zlib here, libpng there)."""

import os
import struct
import zlib

KEYS, LOWEST_NOTE = 88, 21


def pixels(frames, frames_per_beat, px=4, py=3):
    """The picture's RGB rows (bytes of width * 3) for `frames` ([L][88] 0/1)."""
    n = max(len(frames), 1)
    if n * px > 1000000:
        raise ValueError("%d frames make a picture wider than 1,000,000 pixels" % len(frames))
    width = n * px
    shade = [255] * KEYS
    for k in range(KEYS):
        if (k + LOWEST_NOTE) % 12 == 0:
            shade[k] = 236
    columns = [None] * width  # the beat line's grey at a column, if any
    if frames_per_beat > 0:
        for f in range(0, n, frames_per_beat):
            columns[f * px] = 150 if (f // frames_per_beat) % 4 == 0 else 200
    rows = []
    for key in range(KEYS - 1, -1, -1):
        row = bytearray()
        for x in range(width):
            f = x // px
            if f < len(frames) and frames[f][key]:
                value = 0
            elif columns[x] is not None:
                value = columns[x]
            else:
                value = shade[key]
            row += bytes((value, value, value))
        rows += [bytes(row)] * py
    return width, KEYS * py, rows


def write_pianoroll_png(frames, path, frames_per_beat, px=4, py=3):
    """Writes the picture atomically (PATH.tmp, then renamed)."""
    width, height, rows = pixels(frames, frames_per_beat, px, py)

    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    raw = b"".join(b"\x00" + r for r in rows)  # filter 0 (None) on every row
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
