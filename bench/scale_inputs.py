#!/usr/bin/env python3
"""Generated inputs for bench/prepare_scale.sh, with Python's standard library only.

  scale_inputs.py midi DIR FILES   a MIDI collection shaped like the Lakh MIDI Dataset: nested
                                   folders DIR/<h>/<hh>/<name>.mid by a name hash; format-1 files
                                   of 2-6 tracks (tempo changes, a drum track in some), about
                                   7.5 KB each; 0.5% cut short (corrupt), 2% byte-identical copies
                                   under other names, 0.5% drums only by design (about 3% in all:
                                   some files draw the drum channel as their only one).
  scale_inputs.py csv FILE SONGS   a songdata-shaped CSV (artist,song,link,text; quoted lyrics
                                   with the "  \\n" line ends, \\r\\n between records), about
                                   1,100 bytes of lyrics per song (57,650 songs: about 70 MB),
                                   643 artists, 3% near-copies of another song under a new title.

Deterministic: the same arguments give the same bytes.
"""
import hashlib
import os
import random
import struct
import sys


def vlq(n):
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def track(events):
    """events: (tick, bytes) sorted by tick -> an MTrk chunk ending with End of Track."""
    body, last = bytearray(), 0
    for tick, data in events:
        body += vlq(tick - last) + data
        last = tick
    body += vlq(0) + b"\xff\x2f\x00"
    return b"MTrk" + struct.pack(">I", len(body)) + bytes(body)


def midi_file(rng, drums_only=False):
    division = rng.choice([96, 120, 384, 480])
    tracks = [track([(0, b"\xff\x51\x03" + struct.pack(">I", rng.randint(300000, 900000))[1:]),
                     (division * 16, b"\xff\x51\x03" + struct.pack(">I", rng.randint(300000, 900000))[1:])])]
    channels = [9] if drums_only else rng.sample([0, 1, 2, 3, 4, 5, 9], rng.randint(1, 5))
    for ch in channels:
        events, tick = [], 0
        low, high = (35, 81) if ch == 9 else (rng.randint(24, 60), rng.randint(64, 100))
        for _ in range(rng.randint(150, 450)):
            tick += rng.choice([0, division // 4, division // 2, division])
            note, length = rng.randint(low, high), rng.choice([division // 4, division // 2, division])
            events.append((tick, bytes([0x90 | ch, note, rng.randint(40, 110)])))
            events.append((tick + length, bytes([0x80 | ch, note, 0])))
        events.sort(key=lambda e: e[0])
        tracks.append(track(events))
    return b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), division) + b"".join(tracks)


def make_midi(root, count):
    rng = random.Random(count)
    made = []
    for i in range(count):
        name = hashlib.md5(b"%d-%d" % (count, i)).hexdigest()
        folder = os.path.join(root, name[0], name[:2])
        os.makedirs(folder, exist_ok=True)
        r = rng.random()
        if r < 0.02 and made:  # a byte-identical copy under another name
            data = open(rng.choice(made), "rb").read()
        elif r < 0.025:
            data = midi_file(rng, drums_only=True)
        else:
            data = midi_file(rng)
            if r < 0.03:  # cut short
                data = data[: len(data) // 2]
        path = os.path.join(folder, name + (".mid" if i % 7 else ".MID"))
        open(path, "wb").write(data)
        made.append(path)


SYLLABLES = "la lo ve ni ght ro ad he art fi re ra in ho me da nce blu ri ver li me dre am a wa y " \
            "you me ba by oh yeah go ing to no w for ev er sh ine bri ght star s wi th".split()
ACCENTS = ["é", "’", "ñ", "ü"]


def make_csv(path, songs):
    rng = random.Random(songs)
    words = sorted({"".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 3))) for _ in range(3000)})
    artists = ["Artist %03d %s" % (i, rng.choice(words).title()) for i in range(643)]
    written = []
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write("artist,song,link,text\r\n")
        for i in range(songs):
            artist = artists[i * len(artists) // songs]
            title = " ".join(rng.choice(words) for _ in range(rng.randint(1, 4))).title() + " %d" % i
            if written and rng.random() < 0.03:  # a near-copy: another song with a new last line
                text = rng.choice(written) + "one more time  \n"
            else:
                def line():
                    s = " ".join(rng.choice(words) for _ in range(rng.randint(4, 9)))
                    if rng.random() < 0.01:
                        s += rng.choice(ACCENTS)
                    return s[0].upper() + s[1:] + rng.choice(["", "", ",", "!", "?", '"'])
                chorus = [line() for _ in range(4)]
                stanzas = []
                for _ in range(rng.randint(2, 4)):
                    stanzas.append([line() for _ in range(4)])
                    stanzas.append(chorus)
                text = "  \n  \n".join("  \n".join(s) for s in stanzas) + "\n\n"
            written.append(text)
            if len(written) > 2000:
                written.pop(0)
            link = "/a/%s/%s.html" % (artist.lower().replace(" ", "+"), title.lower().replace(" ", "+"))
            out.write('%s,"%s",%s,"%s"\r\n' % (artist, title, link, text.replace('"', '""')))


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] not in ("midi", "csv"):
        sys.exit(__doc__)
    (make_midi if sys.argv[1] == "midi" else make_csv)(sys.argv[2], int(sys.argv[3]))
