// libFuzzer target for the experiment config reader (trainer/config/config.cpp over yaml-cpp): any text
// must give a Config or an InputError; a Config written back as YAML reads back equal.
// Built and run by tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <string>

#include "data/errors.h"
#include "trainer/config/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  chorus::Config config;
  try {
    config = chorus::parse_config(text, "fuzz.yaml", {});
  } catch (const chorus::InputError&) {
    return 0;
  }
  const chorus::Config back = chorus::parse_config(chorus::to_yaml(config), "round trip", {});
  if (!(back == config)) __builtin_trap();
  return 0;
}
