// The `chorus` subcommands. Each returns the process exit code (docs/design.md "Exit codes") and
// throws InputError (exit 2) or another exception (exit 1); main() is the only catch. The
// options structs are the library's own (trainer/config/config.h, trainer/tasks/task.h), so the
// command line, the YAML config and the library share one default per option.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/prepare.h"
#include "data/prepare_pianoroll.h"
#include "trainer/config/config.h"
#include "trainer/tasks/task.h"

namespace chorus {

struct TrainArgs {
  std::string config;
  std::vector<std::string> overrides;  // --set section.key=value
  bool resume = false;
  std::string command_line;
};

struct SampleArgs : SampleRequest {
  std::string checkpoint;  // a checkpoint or run directory
};

struct EvalArgs {
  std::string checkpoint;
  std::string data;
  std::string split = "valid";
  EvalOptions options;         // max_symbols (0 = the whole split), batch_size
  bool by_artist = false;      // also one line per artist (lyrics corpora)
  int64_t prime_symbols = 0;   // count only predictions after each song's first N (its prime)
};

struct BaselineArgs {
  std::string data;
  BaselineOptions options;     // model, order, train_split, add_k, discount
  std::string split = "valid";
  int64_t sample = 0;          // > 0: also generate this many symbols (lyrics)
  uint64_t seed = 1;
};

int command_prepare_lyrics(PrepareLyricsOptions options);
int command_prepare_pianoroll(const PreparePianoRollOptions& options);
int command_train(const TrainArgs& args);
int command_sample(const SampleArgs& args);
int command_eval(const EvalArgs& args);
int command_baseline(const BaselineArgs& args);
int command_check(const std::string& config, const std::vector<std::string>& overrides);
int command_info(const std::string& path);

// `chorus plot RUN_DIR... --out FILE.png [--metric auto|loss|lr|...]` and `chorus runs [ROOT]`
// (trainer/tools/run_report.h).
struct PlotArgs {
  std::vector<std::string> run_dirs;
  std::string out;
  std::string metric = "auto";  // auto: bpc for char runs, nats per frame for frame runs
};
int command_plot(const PlotArgs& args);
int command_runs(const std::string& root);

}  // namespace chorus
