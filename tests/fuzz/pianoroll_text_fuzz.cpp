// libFuzzer target for the piano-roll text reader (data/pianoroll.cpp read_pianoroll_text): any
// bytes must parse or throw InputError, and what parses is written back and read as the same songs.
// Built and run by tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "data/errors.h"
#include "data/pianoroll.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::vector<chorus::Frame>> songs;
  try {
    const std::string path = chorus::fuzz_file(data, size, ".txt");
    chorus::read_pianoroll_text(path, [&](std::vector<chorus::Frame> song) {
      songs.push_back(std::move(song));
    });
  } catch (const chorus::InputError&) {
    return 0;
  }
  const std::string text = chorus::format_pianoroll_text(songs);
  std::vector<std::vector<chorus::Frame>> again;
  const std::string path = chorus::fuzz_file(reinterpret_cast<const uint8_t*>(text.data()),
                                             text.size(), ".txt");
  chorus::read_pianoroll_text(path, [&](std::vector<chorus::Frame> song) {
    again.push_back(std::move(song));
  });
  if (again != songs) __builtin_trap();
  return 0;
}
