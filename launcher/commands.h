// The `chorus` subcommands. Each returns the process exit code (DESIGN.md "Exit codes") and
// throws InputError (exit 2) or another exception (exit 1); main() is the only catch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/prepare.h"

namespace chorus {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;  // --set section.key=value
  bool resume = false;
  std::string command_line;
};

struct SampleArgs {
  std::string checkpoint;
  std::string prime = "Why";
  double temperature = 0.8;
  std::string artist;
  int64_t length = 600;
  uint64_t seed = 1;
  std::string method = "multinomial";
};

struct EvalArgs {
  std::string checkpoint;
  std::string data;
  std::string split = "valid";
  int64_t max_symbols = 0;  // 0 = the whole split
  int64_t batch_size = 32;
};

int command_prepare_lyrics(PrepareLyricsOptions options);
int command_train(const TrainArgs& args);
int command_sample(const SampleArgs& args);
int command_eval(const EvalArgs& args);
int command_check(const std::string& config, const std::vector<std::string>& overrides);
int command_info(const std::string& path);

}  // namespace chorus
