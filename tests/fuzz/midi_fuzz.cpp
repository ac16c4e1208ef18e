// libFuzzer target for the MIDI reader (data/midi.cpp): any byte string must either parse or throw
// InputError; crashes, sanitizer reports, hangs and huge allocations are bugs. Not built by CMake:
//   clang++-14 -std=c++17 -g -O1 -fsanitize=fuzzer,address,undefined -I. tests/fuzz/midi_fuzz.cpp \
//     data/midi.cpp data/pianoroll.cpp data/files.cpp -lcrypto -o midi_fuzz
//   ./midi_fuzz -max_total_time=60 -rss_limit_mb=512 CORPUS_DIR ../shared/data/nottingham/jukedeck/MIDI
#include <cstddef>
#include <cstdint>

#include "data/errors.h"
#include "data/midi.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Both grids: the musical one (ticks) and the wall-clock one (tempo map, SMPTE).
  for (const chorus::MidiTiming timing : {chorus::MidiTiming{4, 0}, chorus::MidiTiming{4, 0.05}}) {
    try {
      const chorus::MidiRoll roll = chorus::parse_midi(data, size, "fuzz.mid", timing);
      if (roll.stats.notes < 0) __builtin_trap();
      // What we read, we can write and read back unchanged.
      const std::string bytes = chorus::encode_midi(roll.frames, {4, 0, 120, 80});
      const chorus::MidiRoll again = chorus::parse_midi(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                        bytes.size(), "again.mid", {4, 0});
      if (again.frames != roll.frames) __builtin_trap();
    } catch (const chorus::InputError&) {
    }
  }
  return 0;
}
