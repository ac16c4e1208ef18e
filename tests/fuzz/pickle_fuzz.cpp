// libFuzzer target for the data-only pickle reader (data/pickle_reader.cpp): any bytes must give
// songs or throw InputError; crashes, sanitizer reports, hangs and huge allocations are bugs, and
// every song handed out is non-empty and in a known split. Built and run by tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/errors.h"
#include "data/pickle_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    chorus::parse_pianoroll_pickle(data, size, "fuzz.pickle",
                                   [](const std::string& split, std::vector<chorus::Frame> song) {
                                     if (song.empty()) __builtin_trap();
                                     if (split != "train" && split != "valid" && split != "test") __builtin_trap();
                                   });
  } catch (const chorus::InputError&) {
  }
  return 0;
}
