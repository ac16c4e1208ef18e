// libFuzzer target for the benchmark .mat reader (data/mat_reader.cpp over Debian's libmatio):
// any bytes must give songs or throw InputError. matio itself is not instrumented here (it is the
// system library), so coverage guides only our side; a crash, a sanitizer report in our code, a
// hang or a huge allocation is still caught. Built and run by tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/errors.h"
#include "data/mat_reader.h"
#include "tests/fuzz/fuzz_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const std::string path = chorus::fuzz_file(data, size, ".mat");
    chorus::read_pianoroll_mat(path, [](const std::string& split, std::vector<chorus::Frame> song) {
      if (song.empty()) __builtin_trap();
      if (split != "train" && split != "valid" && split != "test") __builtin_trap();
    });
  } catch (const chorus::InputError&) {
  }
  return 0;
}
