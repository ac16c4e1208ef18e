// The `chorus` subcommands. Each returns the process exit code (DESIGN.md "Exit codes") and
// throws InputError (exit 2) or another exception (exit 1); main() is the only catch.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "data/prepare.h"
#include "data/prepare_pianoroll.h"

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
  // Piano-roll models: where to write, and what to prime with.
  std::string out;          // FILE.mid (required for piano-roll models)
  std::string image;        // FILE.png: the piano roll as a picture
  std::string wav;          // FILE.wav: rendered with fluidsynth and a General MIDI soundfont
  std::string prime_midi;   // prime with this MIDI file's frames
  std::string prime_data;   // or with the first prime_frames frames of song prime_song of this
  int64_t prime_song = 0;   // corpus's valid split
  int64_t prime_frames = 16;
};

struct EvalArgs {
  std::string checkpoint;
  std::string data;
  std::string split = "valid";
  int64_t max_symbols = 0;  // 0 = the whole split
  int64_t batch_size = 32;
  bool by_artist = false;   // also one line per artist (lyrics corpora)
  int64_t prime_symbols = 0;  // count only predictions after each song's first N (its prime)
};

struct BaselineArgs {
  std::string data;
  std::string model = "bigram";
  int order = 0;
  std::string split = "valid";
  std::string train_split = "train";
  double add_k = 1.0;
  double discount = 0.75;
  int64_t sample = 0;  // > 0: also generate this many symbols (lyrics)
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
// (trainer/run_report.h).
struct PlotArgs {
  std::vector<std::string> run_dirs;
  std::string out;
  std::string metric = "auto";  // auto: bpc for char runs, nats per frame for frame runs
};
int command_plot(const PlotArgs& args);
int command_runs(const std::string& root);

}  // namespace chorus
