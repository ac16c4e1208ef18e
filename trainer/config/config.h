// An experiment, as one YAML file. YAML keys are spelled exactly like these fields
// (section.field), so one grep finds both. Every field: default and contract. Choices are enums,
// parsed once (config.cpp's table maps each to its YAML names); no other code compares strings.
// LibTorch-free: the launcher, the tools and the unit tests include it cheaply.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chorus {

// ---- Choices: each enum's YAML names, in enum order (choice_names<E>()) ----

enum class ModelKind { kChars, kPianoRoll, kNotes };    // "chars" | "pianoroll" | "notes"
enum class Condition { kNone, kArtist };                // "none" | "artist"
enum class RecurrenceKind { kLstm, kGru };              // "lstm" | "gru"
enum class LstmImpl { kAuto, kFused, kTorch };          // "auto" | "fused" | "torch"
enum class Bptt { kTruncated, kFull };                  // "truncated" | "full"
enum class DeviceChoice { kAuto, kCpu, kCuda };         // "auto" | "cpu" | "cuda"
enum class Precision { kFp32, kBf16 };                  // "fp32" | "bf16"
enum class Schedule { kConstant, kWarmup, kCosine };    // "constant" | "warmup" | "cosine"
enum class SampleMethod { kMultinomial, kGumbel, kArgmax };  // "multinomial" | "gumbel" | "argmax"
enum class Backend { kAuto, kMpi, kNccl };              // "auto" | "mpi" | "nccl"
enum class HeadKind { kAuto, kSoftmax, kIndependent, kNade };  // "auto" | "softmax" | "independent" | "nade"
enum class BaselineModel { kUniform, kUnigram, kBigram, kNgram };  // "uniform" | ... | "ngram"

// The names of E's choices, in enum order (trainer/config/choices.cpp).
template <class E>
const std::vector<std::string>& choice_names();
template <> const std::vector<std::string>& choice_names<ModelKind>();
template <> const std::vector<std::string>& choice_names<Condition>();
template <> const std::vector<std::string>& choice_names<RecurrenceKind>();
template <> const std::vector<std::string>& choice_names<LstmImpl>();
template <> const std::vector<std::string>& choice_names<Bptt>();
template <> const std::vector<std::string>& choice_names<DeviceChoice>();
template <> const std::vector<std::string>& choice_names<Precision>();
template <> const std::vector<std::string>& choice_names<Schedule>();
template <> const std::vector<std::string>& choice_names<SampleMethod>();
template <> const std::vector<std::string>& choice_names<Backend>();
template <> const std::vector<std::string>& choice_names<HeadKind>();
template <> const std::vector<std::string>& choice_names<BaselineModel>();
// The YAML name of a choice ("pianoroll").
template <class E>
const std::string& name_of(E value) {
  return choice_names<E>()[static_cast<size_t>(value)];
}
// Parses a YAML name; false when `text` names no choice of E.
template <class E>
bool parse_choice(const std::string& text, E* out) {
  const auto& names = choice_names<E>();
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == text) return *out = static_cast<E>(i), true;
  return false;
}
// "a, b, c": the choices of E, for messages and --help.
template <class E>
std::string choice_list() {
  std::string list;
  for (const std::string& n : choice_names<E>()) list += (list.empty() ? "" : ", ") + n;
  return list;
}

// train.recompute_every, parsed once: "auto" or a whole number of steps (0 = off).
struct RecomputeEvery {
  bool automatic = false;
  int64_t steps = 0;
  // Segment length for a window of T steps: 0 (the plain backward pass) when off or when the
  // segment would span the window; "auto" gives round(sqrt(T)) for each window, since whole-song
  // windows vary in length.
  int64_t segment(int64_t T) const;
  std::string text() const;  // "auto" or the number
  // "auto" or decimal digits (at most 9); false otherwise.
  static bool parse(const std::string& text, RecomputeEvery* out);
  bool operator==(const RecomputeEvery& o) const {
    return automatic == o.automatic && steps == o.steps;
  }
};

// ---- Options shared by the YAML config, the command line and the library ----

// How to sample from a model: the `sample` section, `chorus sample` and the library share this
// struct, so their defaults agree.
struct SampleOptions {
  std::string prime = "Why";            // priming text (lyrics; printed as part of the song)
  int64_t length = 400;                 // symbols (or frames) generated at most (> 0)
  double temperature = 0.8;             // logits are divided by it (> 0)
  SampleMethod method = SampleMethod::kMultinomial;  // lyrics: how a symbol is picked
  std::string artist;                   // artist-conditioned models: the artist ("" = the first)
};

// How to evaluate: the `eval` section and `chorus eval` share this struct.
struct EvalOptions {
  int64_t max_symbols = 0;              // cap on predictions per evaluation, whole songs in file
                                        // order (at least one song); 0 = the whole split
  int64_t batch_size = 32;              // songs evaluated side by side, over all ranks (> 0)
};

// A count baseline (`chorus baseline`; trainer/tools/baselines.h).
struct BaselineOptions {
  BaselineModel model = BaselineModel::kBigram;
  int order = 0;                        // ngram: N >= 2 (uniform 0, unigram 1, bigram 2 implied)
  std::string train_split = "train";    // fitted on
  double add_k = 1.0;                   // add-k smoothing (> 0)
  double discount = 0.75;               // Kneser-Ney discount D, in (0, 1)
};

// ---- The experiment ----

struct RunConfig {
  std::string dir = "checkpoints/run";  // run directory: manifest, metrics.jsonl, samples, checkpoints
  uint64_t seed = 1234;                 // seeds parameters, shuffling, dropout masks and samples
};

struct DataConfig {
  std::string path;                     // corpus .h5 (required; `chorus prepare` writes it)
  std::string train_split = "train";    // split trained on
  std::string valid_split = "valid";    // split validated on ("" = no validation)
};

struct ModelConfig {
  ModelKind kind = ModelKind::kChars;   // the model and what it trains on (checked against the
                                        // file): chars = lyrics, pianoroll = 88-key piano rolls
                                        // frame by frame, notes = piano rolls note by note (each
                                        // frame's keys low to high, then an end of frame)
  int64_t embedding_size = 64;          // symbol embedding / frame projection width
  int64_t hidden_size = 512;            // recurrent units per layer (> 0)
  int64_t layers = 2;                   // stacked single-layer recurrences (>= 1)
  RecurrenceKind recurrence = RecurrenceKind::kLstm;  // the layer: lstm | gru
  LstmImpl lstm_impl = LstmImpl::kAuto; // how an LSTM runs: fused (Chorus's CPU layer, forward and
                                        // backward written for the recurrence), torch
                                        // (torch::nn::LSTM; cuDNN on CUDA), auto (fused on the
                                        // CPU in fp32, else torch). The same parameters either
                                        // way, so it may change on resume. fused needs
                                        // recurrence lstm, the CPU and fp32.
  HeadKind head = HeadKind::kAuto;      // the output: auto (the model kind's own: softmax for
                                        // chars and notes, independent for pianoroll) | softmax |
                                        // independent (a sigmoid per key) | nade (pianoroll: a
                                        // joint distribution over the keys of a frame, RNN-NADE)
  int64_t nade_hidden = 0;              // hidden units of the NADE head; 0 = kDefaultNadeHidden.
                                        // Only with head: nade
  double dropout = 0.0;                 // in [0, 1): after each layer, masks per docs/design.md
  double input_dropout = 0.0;           // in [0, 1): on the features (the recurrence's input),
                                        // masks drawn like the layers' (docs/design.md)
  Condition condition = Condition::kNone;  // artist: an artist vector joined to every input
  int64_t artist_embedding_size = 32;   // width of the artist vector (condition: artist)
};

// The NADE head's hidden units when model.nade_hidden is 0: the order of the RNN-NADE paper's
// (Boulanger-Lewandowski et al. 2012 use 150 for the NADE of their RNN-NADE); its [T, B, 88, N]
// activations stay about 160 MB for a window of 100 frames x 32 streams.
inline constexpr int64_t kDefaultNadeHidden = 150;
inline int64_t nade_hidden_units(const ModelConfig& model) {
  return model.nade_hidden > 0 ? model.nade_hidden : kDefaultNadeHidden;
}

struct TrainConfig {
  int64_t batch_size = 32;              // global number of streams; divisible by the rank count
  int64_t seq_len = 128;                // TBPTT window, symbols (> 0)
  int64_t steps = 1000;                 // total optimizer steps (also on resume)
  int64_t accumulate = 1;               // windows per optimizer step (>= 1), one all-reduce per step
  int64_t threads = 0;                  // intra-op threads per rank; 0 = cores / local ranks
  Bptt bptt = Bptt::kTruncated;         // truncated: windows of seq_len, state carried (TBPTT);
                                        // full: one whole song per stream and window, padded
  RecomputeEvery recompute_every;       // gradient checkpointing: keep the state of every k-th
                                        // step and recompute the rest in the backward pass;
                                        // 0 = off (default), auto = about sqrt(window length)
  int64_t max_song_length = 0;          // bptt full: longest window; a longer song is split into
                                        // pieces with its state carried; 0 = no cap
  int64_t patience = 0;                 // early stopping: end the run after this many validations
                                        // in a row without a better valid loss; 0 = off
  int64_t transpose = 0;                // piano rolls: each training song is transposed by a
                                        // random number of semitones in [-N, N], keys kept in
                                        // range, drawn from (seed, epoch, song); 0 = off
  int64_t max_bad_steps = 5;            // a step whose loss or gradient norm is not finite is
                                        // skipped (no update, state reset); more than this many
                                        // in a row end the run (exit 1, checkpoints untouched)
  DeviceChoice device = DeviceChoice::kAuto;  // cpu | cuda (one GPU per rank: the rank's local
                                        // rank on its node) | auto (cuda when this build's
                                        // LibTorch sees a GPU, else cpu)
  Precision precision = Precision::kFp32;  // bf16: forward pass under autocast to bfloat16
                                        // (parameters, gradients and Adam stay fp32; no loss
                                        // scaler: bf16 has fp32's exponent range). CUDA needs
                                        // compute capability >= 8.0
};

struct OptimConfig {
  double lr = 2e-3;                     // peak learning rate (> 0)
  double clip = 5.0;                    // global gradient-norm clip; 0 = off
  Schedule schedule = Schedule::kConstant;  // cosine includes the warm-up
  int64_t warmup_steps = 0;             // linear warm-up from 0 over these steps
  double min_lr = 0.0;                  // cosine floor
  double beta1 = 0.9;                   // Adam
  double beta2 = 0.999;                 // Adam
  double weight_decay = 0.0;            // Adam (L2)
};

struct EvalConfig : EvalOptions {
  int64_t every = 200;                  // validate every N steps and at the end; 0 = only at the end
};

struct CheckpointConfig {
  int64_t every = 200;                  // save every N steps and at the end; 0 = only at the end
  int64_t keep = 3;                     // newest complete checkpoints kept (plus the best)
};

struct LogConfig {
  int64_t every = 10;                   // progress line and metrics.jsonl train record every N steps
};

struct SampleConfig : SampleOptions {
  int64_t every = 0;                    // write a sample into run.dir/samples every N steps; 0 = off
};

struct DistConfig {
  // A collective of the training step that has not completed after this many seconds ends the
  // job, naming the ranks that never arrived (a stalled rank: SIGSTOP, a hung file system);
  // checkpoint writes, validation and sampling have slow_timeout_s instead. 0 = wait forever.
  double timeout_s = 300;
  // The deadline of the collectives around work that one rank may legitimately take long over
  // (checkpoint writes, validation, samples): a rank stopped there still ends the job, named,
  // after this many seconds. 0 = wait forever. Default 600.
  double slow_timeout_s = 600;
  // How gradients are summed: mpi (host buffers; CUDA gradients are copied to the host and
  // back), nccl (device buffers, train.device cuda only) or auto (nccl for CUDA, else mpi).
  // Scalars, strings and barriers always go over MPI.
  Backend backend = Backend::kAuto;
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

// The keys whose values differ between `saved` (a checkpoint's) and `now` among those the table
// marks as fixed for a run (docs/design.md "Resume": model shape, batch, window, data file). Both are
// compared as given: resume passes them resolved by the task (Task::resolved), so `head: auto`
// equals the head it stands for.
std::vector<std::string> keys_fixed_on_resume_that_differ(const Config& saved, const Config& now);

bool operator==(const Config& a, const Config& b);

}  // namespace chorus
