"""A Standard MIDI file -> piano-roll frames, by chorus's rules (data/midi.cpp; every rule in
data/README.md "MIDI"), for `sample --prime-midi`. Invariant: the same file and grid give the same
frames as chorus (format 0/1, running status, drums and out-of-range notes left out, a note covers
frames [round(on), round(off)) and at least one); a malformed file is a ValueError naming it."""

import bisect
import math

MAX_FRAMES = 1048576.0
DEFAULT_TEMPO = 500000  # microseconds per quarter (120 bpm)


def _fail(name, reason):
    raise ValueError("%s: %s" % (name, reason))


def _track(data, pos, end, name, notes, tempos):
    """One MTrk chunk's notes (pitch, on, off ticks) and tempo events; returns its end tick."""
    def need(what):
        if pos >= end:
            _fail(name, "byte %d: truncated track: the chunk ends inside %s" % (pos, what))

    tick, running, opened = 0, 0, {}
    while pos < end:
        delta = 0
        for i in range(5):
            if i == 4:
                _fail(name, "byte %d: a delta time: variable-length quantity longer than 4 bytes" % pos)
            need("a delta time")
            b = data[pos]
            pos += 1
            delta = (delta << 7) | (b & 0x7F)
            if not b & 0x80:
                break
        tick += delta
        need("an event")
        status = running
        if data[pos] & 0x80:
            status = data[pos]
            pos += 1
        elif running == 0:
            _fail(name, "byte %d: running status without a previous status byte" % pos)
        if status in (0xFF, 0xF0, 0xF7):
            kind = None
            if status == 0xFF:
                need("a meta event")
                kind = data[pos]
                pos += 1
            length = 0
            for i in range(5):
                if i == 4:
                    _fail(name, "byte %d: variable-length quantity longer than 4 bytes" % pos)
                need("a length")
                b = data[pos]
                pos += 1
                length = (length << 7) | (b & 0x7F)
                if not b & 0x80:
                    break
            if length > end - pos:
                _fail(name, "byte %d: truncated event: %d bytes announced, %d left in the chunk"
                      % (pos, length, end - pos))
            if kind == 0x51:
                if length != 3:
                    _fail(name, "byte %d: Set Tempo meta event of length %d (3 expected)" % (pos, length))
                us = int.from_bytes(data[pos:pos + 3], "big")
                if us == 0:
                    _fail(name, "byte %d: Set Tempo of 0 microseconds per quarter note" % pos)
                tempos.append((tick, us))
            pos += length
            if kind == 0x2F:
                break
            continue
        if status > 0xF0:
            _fail(name, "byte %d: status 0x%X (a system message) is not allowed in a MIDI file" % (pos, status))
        running = status
        kind, channel = status & 0xF0, status & 0x0F
        d = [0, 0]
        for i in range(1 if kind in (0xC0, 0xD0) else 2):
            need("a channel message")
            d[i] = data[pos]
            pos += 1
            if d[i] & 0x80:
                _fail(name, "byte %d: data byte 0x%X after status 0x%X" % (pos, d[i], status))
        note_on = kind == 0x90 and d[1] > 0
        note_off = kind == 0x80 or (kind == 0x90 and d[1] == 0)
        if not (note_on or note_off) or channel == 9 or not 21 <= d[0] <= 108:
            continue
        starts = opened.setdefault((channel, d[0]), [])
        if note_on:
            starts.append(tick)
            continue
        earlier = any(s < tick for s in starts)
        keep = [s for s in starts if earlier and s == tick]
        notes += [(d[0], s, tick) for s in starts if not (earlier and s == tick)]
        opened[(channel, d[0])] = keep
    for (_, pitch), starts in sorted(opened.items()):
        notes += [(pitch, s, tick) for s in starts]
    return tick


def read_midi(path, frames_per_quarter=4, seconds_per_frame=0.0):
    """The frames ([L][88] lists of 0/1) of the MIDI file at `path` on the given grid."""
    with open(path, "rb") as f:
        data = f.read()
    name, size = path, len(data)
    if size < 8 or data[:4] != b"MThd":
        _fail(name, "not a Standard MIDI File (no MThd header)")
    header = int.from_bytes(data[4:8], "big")
    if header < 6:
        _fail(name, "bad header: MThd length %d (6 expected)" % header)
    if header > size - 8:
        _fail(name, "truncated header: MThd announces %d bytes" % header)
    fmt, tracks, division = (int.from_bytes(data[o:o + 2], "big") for o in (8, 10, 12))
    if fmt >= 2:
        _fail(name, "MIDI format 2 (independent sequences) is not supported" if fmt == 2
              else "bad header: format %d" % fmt)
    if tracks == 0:
        _fail(name, "bad header: no tracks")
    ticks_per_second = 0.0
    if division & 0x8000:
        fps, per_frame = 256 - (division >> 8), division & 0xFF
        if fps not in (24, 25, 29, 30) or per_frame == 0:
            _fail(name, "bad header: SMPTE division 0x%X" % division)
        if seconds_per_frame == 0:
            _fail(name, "SMPTE time division has no quarter notes; quantise it with --seconds-per-frame")
        ticks_per_second = (29.97 if fps == 29 else fps) * per_frame
    elif division == 0:
        _fail(name, "bad header: 0 ticks per quarter note")
    notes, tempos, end_tick, pos, seen = [], [], 0, 8 + header, 0
    while seen < tracks:
        if size - pos < 8:
            _fail(name, "truncated: the header announces %d tracks, the file ends after %d" % (tracks, seen))
        length = int.from_bytes(data[pos + 4:pos + 8], "big")
        if length > size - pos - 8:
            _fail(name, "truncated chunk at byte %d" % pos)
        if data[pos:pos + 4] == b"MTrk":
            end_tick = max(end_tick, _track(data, pos + 8, pos + 8 + length, name, notes, tempos))
            seen += 1
        pos += 8 + length
    tempos.sort(key=lambda t: t[0])  # stable, as std::stable_sort
    seconds, sec = [], 0.0
    for i, (t, _) in enumerate(tempos):
        prev_tick, prev_tempo = (tempos[i - 1][0], tempos[i - 1][1]) if i else (0, DEFAULT_TEMPO)
        sec += float(t - prev_tick) * prev_tempo / (1e6 * division)
        seconds.append(sec)
    ticks = [t for t, _ in tempos]

    def position(tick):
        if seconds_per_frame == 0:
            frames = float(tick) * frames_per_quarter / division
        elif ticks_per_second > 0:
            frames = float(tick) / ticks_per_second / seconds_per_frame
        else:
            i = bisect.bisect_right(ticks, tick)
            base = seconds[i - 1] if i else 0.0
            tempo = tempos[i - 1][1] if i else DEFAULT_TEMPO
            start = tempos[i - 1][0] if i else 0
            frames = (base + float(tick - start) * tempo / (1e6 * division)) / seconds_per_frame
        if not frames <= MAX_FRAMES:
            _fail(name, "longer than %d frames at this resolution" % MAX_FRAMES)
        return int(math.floor(frames + 0.5))

    n = position(end_tick)
    spans = []
    for pitch, on, off in notes:
        a = position(on)
        b = max(position(off), a + 1)
        spans.append((pitch, a, b))
        n = max(n, b)
    if n > MAX_FRAMES:
        _fail(name, "longer than the frame limit at this resolution")
    frames = [[0] * 88 for _ in range(n)]
    for pitch, a, b in spans:
        for f in range(a, b):
            frames[f][pitch - 21] = 1
    return frames
