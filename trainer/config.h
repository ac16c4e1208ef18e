// An experiment, as one YAML file. YAML keys are spelled exactly like these fields
// (section.field), so one grep finds both. Every field: default and contract.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chorus {

struct RunConfig {
  std::string dir = "checkpoints/run";  // run directory: manifest, metrics.jsonl, samples, checkpoints
  uint64_t seed = 1234;                 // seeds shuffling, dropout masks and samples
};

struct DataConfig {
  std::string path;                     // corpus .h5 (required; `chorus prepare` writes it)
  std::string train_split = "train";    // split trained on
  std::string valid_split = "valid";    // split validated on ("" = no validation)
};

struct ModelConfig {
  std::string kind = "chars";           // "chars": character LSTM on a lyrics corpus;
                                        // "pianoroll": 88-key LSTM on a piano-roll corpus
  int64_t embedding_size = 64;          // symbol embedding width
  int64_t hidden_size = 512;            // LSTM units per layer (> 0)
  int64_t layers = 2;                   // stacked single-layer LSTMs (>= 1)
  double dropout = 0.0;                 // in [0, 1): after each LSTM layer, masks per DESIGN.md
  std::string condition = "none";       // "none" | "artist": artist vector joined to every input
  int64_t artist_embedding_size = 32;   // width of the artist vector (condition: artist)
};

struct TrainConfig {
  int64_t batch_size = 32;              // global number of streams; divisible by the rank count
  int64_t seq_len = 128;                // TBPTT window, symbols (> 0)
  int64_t steps = 1000;                 // total optimizer steps (also on resume)
  int64_t accumulate = 1;               // windows per optimizer step (>= 1), one all-reduce per step
  int64_t threads = 0;                  // intra-op threads per rank; 0 = cores / local ranks
  std::string bptt = "truncated";       // "truncated": windows of seq_len, state carried (TBPTT);
                                        // "full": one whole song per stream and window, padded
  std::string recompute_every = "0";    // gradient checkpointing: keep the (h, c) of every k-th
                                        // step and recompute the rest in the backward pass;
                                        // "0" = off, "auto" = about sqrt(window length)
  int64_t max_song_length = 0;          // bptt full: longest window; a longer song is split into
                                        // pieces with its state carried; 0 = no cap
  int64_t patience = 0;                 // early stopping: end the run after this many validations
                                        // in a row without a better valid loss; 0 = off
  int64_t max_bad_steps = 5;            // a step whose loss or gradient norm is not finite is
                                        // skipped (no update, state reset); more than this many
                                        // in a row end the run (exit 1, checkpoints untouched)
  std::string device = "auto";          // "cpu" | "cuda" (one GPU per rank: the rank's local rank
                                        // on its node) | "auto" (cuda when this build's LibTorch
                                        // sees a GPU, else cpu)
  std::string precision = "fp32";       // "fp32" | "bf16": forward pass under autocast to bfloat16
                                        // (parameters, gradients and Adam stay fp32; no loss
                                        // scaler: bf16 has fp32's exponent range). CUDA needs
                                        // compute capability >= 8.0
};

struct OptimConfig {
  double lr = 2e-3;                     // peak learning rate (> 0)
  double clip = 5.0;                    // global gradient-norm clip; 0 = off
  std::string schedule = "constant";    // "constant" | "warmup" | "cosine" (cosine includes warm-up)
  int64_t warmup_steps = 0;             // linear warm-up from 0 over these steps
  double min_lr = 0.0;                  // cosine floor
  double beta1 = 0.9;                   // Adam
  double beta2 = 0.999;                 // Adam
  double weight_decay = 0.0;            // Adam (L2)
};

struct EvalConfig {
  int64_t every = 200;                  // validate every N steps and at the end; 0 = only at the end
  int64_t max_symbols = 200000;         // cap on symbols per validation (whole songs; 0 = all)
  int64_t batch_size = 32;              // songs evaluated side by side, over all ranks
};

struct CheckpointConfig {
  int64_t every = 200;                  // save every N steps and at the end; 0 = only at the end
  int64_t keep = 3;                     // newest complete checkpoints kept (plus the best)
};

struct LogConfig {
  int64_t every = 10;                   // progress line and metrics.jsonl train record every N steps
};

struct SampleConfig {
  int64_t every = 0;                    // write a sample into run.dir/samples every N steps; 0 = off
  std::string prime = "Why";            // priming text
  int64_t length = 400;                 // symbols at most
  double temperature = 0.8;             // > 0
  std::string method = "multinomial";   // "multinomial" | "gumbel" | "argmax"
  std::string artist;                   // condition: artist — artist name ("" = the first artist)
};

struct DistConfig {
  // A collective of the training step that has not completed after this many seconds ends the
  // job, naming the ranks that never arrived (a stalled rank: SIGSTOP, a hung file system);
  // checkpoint writes, validation and sampling are not timed. 0 = wait forever. Default 300.
  double timeout_s = 300;
  // How gradients are averaged: "mpi" (host buffers; CUDA gradients are copied to the host and
  // back), "nccl" (device buffers, train.device cuda only) or "auto" (nccl for CUDA, else mpi).
  // Scalars, strings and barriers always go over MPI.
  std::string backend = "auto";
};

struct Config {
  RunConfig run;
  DataConfig data;
  ModelConfig model;
  TrainConfig train;
  OptimConfig optim;
  EvalConfig eval;
  CheckpointConfig checkpoint;
  LogConfig log;
  SampleConfig sample;
  DistConfig dist;
};

// Reads a YAML file, applies "section.key=value" overrides in order, validates.
// Throws InputError listing every problem at once (unknown or mistyped key, wrong type, value out
// of range), each naming the key and the file (or "--set" for an override).
Config load_config(const std::string& path, const std::vector<std::string>& overrides);

// Same for YAML text already in memory; `origin` names it in messages.
Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides);

// The resolved config as YAML (every key, in struct order); parse_config(to_yaml(c)) == c.
std::string to_yaml(const Config& config);

// (key, value) rows in struct order for the rank-0 table, e.g. {"model.hidden_size", "512"}.
std::vector<std::pair<std::string, std::string>> config_rows(const Config& config);

bool operator==(const Config& a, const Config& b);

}  // namespace chorus
