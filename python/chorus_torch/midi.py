"""Piano-roll frames -> a Standard MIDI file, byte for byte as chorus writes it (data/midi.cpp
encode_midi): format 0, one track (a name, one Set Tempo, note-on/off on channel 1), 96 ticks per
frame, a key held over consecutive frames one note, offs before ons at a tick. Invariant: the same
frames and grid give the same bytes as `chorus sample --out`."""

import math
import os

TICKS_PER_FRAME = 96
LOWEST_NOTE = 21


def _be(value, n):
    return bytes((value >> (8 * i)) & 0xFF for i in range(n - 1, -1, -1))


def _vlq(value):
    out = [value & 0x7F]
    value >>= 7
    while value:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    return bytes(reversed(out))


def _llround(x):
    return int(math.floor(x + 0.5)) if x >= 0 else -int(math.floor(-x + 0.5))


def encode_midi(frames, frames_per_quarter=4, seconds_per_frame=0.0, beats_per_minute=120.0,
                velocity=80):
    """`frames`: a list of 88 0/1 values per frame. Returns the file's bytes."""
    if not 1 <= frames_per_quarter <= 341:
        raise ValueError("frames_per_quarter must be in 1..341")
    if not 1 <= velocity <= 127:
        raise ValueError("velocity must be in 1..127")
    us = seconds_per_frame * frames_per_quarter * 1e6 if seconds_per_frame > 0 else 60e6 / beats_per_minute
    if not 1 <= us <= 0xFFFFFF:
        raise ValueError("a quarter note must last 1 us..16.7 s (check the tempo)")
    title = b"Chorus piano roll"
    track = bytearray(_vlq(0) + b"\xFF\x03" + _vlq(len(title)) + title)
    track += _vlq(0) + b"\xFF\x51\x03" + _be(_llround(us), 3)
    last_tick = 0
    none = [0] * 88
    for i in range(len(frames) + 1):
        now = frames[i] if i < len(frames) else none
        before = frames[i - 1] if i > 0 else none
        tick = i * TICKS_PER_FRAME
        events = [(0x80, k, 64) for k in range(88) if before[k] and not now[k]]
        events += [(0x90, k, velocity) for k in range(88) if now[k] and not before[k]]
        for status, key, vel in events:
            track += _vlq(tick - last_tick) + bytes((status, key + LOWEST_NOTE, vel))
            last_tick = tick
    track += _vlq(len(frames) * TICKS_PER_FRAME - last_tick) + b"\xFF\x2F\x00"
    header = b"MThd" + _be(6, 4) + _be(0, 2) + _be(1, 2) + _be(TICKS_PER_FRAME * frames_per_quarter, 2)
    return header + b"MTrk" + _be(len(track), 4) + bytes(track)


def write_midi(data, path):
    """Writes the bytes atomically (PATH.tmp, then renamed), as chorus does."""
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
