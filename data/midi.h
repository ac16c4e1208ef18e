// Standard MIDI files <-> piano-roll frames. Our own small reader (format 0 and 1) and writer
// (format 0, one track); see data/README.md "MIDI" for every rule. Debian's libsmf (1.3, 2010,
// glib, prints errors instead of returning them) did not fit; tests/fuzz/midi_fuzz.cpp fuzzes us.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/pianoroll.h"

namespace chorus {

// The quantisation grid. With seconds_per_frame > 0 the grid is wall-clock time and the file's
// tempo changes apply; otherwise it is musical time, frames_per_quarter frames per quarter note.
struct MidiTiming {
  int frames_per_quarter = 4;     // 1..960; used when seconds_per_frame == 0
  double seconds_per_frame = 0;   // > 0: wall-clock grid (0.3 in the study)
};

struct MidiStats {
  int format = 0;                     // 0 or 1
  int tracks = 0;                     // MTrk chunks read
  int64_t notes = 0;                  // notes kept (in 21..108, not on channel 10)
  int64_t dropped_out_of_range = 0;   // note-ons outside 21..108 (dropped)
  int64_t dropped_drums = 0;          // note-ons on channel 10 (dropped)
  int64_t unterminated = 0;           // notes still on at the end of their track (ended there)
  int64_t tempo_changes = 0;          // Set Tempo meta events seen
};

struct MidiRoll {
  std::vector<Frame> frames;
  MidiStats stats;
};

// Parses `size` bytes of a Standard MIDI File. Throws InputError "NAME: REASON" (truncated chunk,
// bad header, running status without a previous status, ...). `name` only labels errors.
MidiRoll parse_midi(const uint8_t* data, size_t size, const std::string& name, const MidiTiming& timing);
// Reads and parses a file; errors name the path.
MidiRoll read_midi(const std::string& path, const MidiTiming& timing);

// How write_midi spaces frames: frames_per_quarter frames per quarter note, and either
// seconds_per_frame > 0 (the tempo is set so one frame lasts exactly that long, rounded to
// a microsecond per quarter) or beats_per_minute quarter notes per minute.
struct MidiWriteTiming {
  int frames_per_quarter = 4;      // 1..341 (ticks per quarter = 96 * frames_per_quarter)
  double seconds_per_frame = 0;    // > 0 overrides beats_per_minute
  double beats_per_minute = 120;
  int velocity = 80;               // 1..127, every note
};

// A format-0 file: one track with a track name, one Set Tempo event, then note-on/note-off
// (0x80) events on channel 1; a key held over consecutive frames is one note. Reading it back
// with the same grid gives the same frames (trailing silent frames included).
std::string encode_midi(const std::vector<Frame>& frames, const MidiWriteTiming& timing);
// encode_midi written atomically (PATH.tmp, then renamed).
void write_midi(const std::vector<Frame>& frames, const std::string& path, const MidiWriteTiming& timing);

}  // namespace chorus
