// The task seam: what differs between kinds of data and models of it (lyrics; piano rolls frame
// by frame; piano rolls note by note) lives behind one interface, chosen once from the corpus
// file's format and the config's model.kind (or, for a trained model, from its checkpoint). A
// task owns its corpus as its model reads it (the layout of inputs and targets, conditioning
// columns, training-time augmentation), builds its model, resolves its head, names its units,
// fits its baselines, generates (text; MIDI, PNG and WAV), writes and checks its checkpoint
// sidecar (vocabulary and artists; time grid), and checks that a corpus fits a model for eval and
// resume. Nothing outside trainer/tasks/ reads model.kind or casts to a corpus reader. A new task
// is one file and one line in the table of task.cpp.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/song_source.h"
#include "trainer/config/config.h"
#include "trainer/models/model.h"
#include "trainer/tasks/units.h"
#include "trainer/tools/baselines.h"

namespace chorus {

// `chorus sample`: what to draw and where to write it. Each task says which of these it
// supports and refuses the others, naming the option.
struct SampleRequest {
  SampleOptions options;      // prime text, length, temperature, method, artist
  uint64_t seed = 1;          // same seed, same song
  std::string out;            // --out FILE: where the sample goes (a MIDI file for piano rolls)
  std::string image;          // --image FILE.png: a picture of the sample
  std::string wav;            // --wav FILE.wav: the sample rendered as audio
  std::string prime_file;     // --prime-midi FILE: prime with a file's contents
  std::string prime_data;     // --prime-data FILE: prime with the first prime_length positions
  int64_t prime_song = 0;     //   of song prime_song of this corpus's valid split
  int64_t prime_length = 16;
};

class Task {
 public:
  virtual ~Task() = default;

  // The model kind this task trains (config's model.kind must say the same).
  virtual ModelKind kind() const = 0;
  virtual const Units& units() const = 0;
  // {"loss", "unit", and the units' metric} of a loss summed over `count` predictions, as
  // metrics.jsonl, eval and baseline report them (loss = loss_sum / count; 0 without any).
  nlohmann::json metrics(double loss_sum, double count) const;
  // The metric of a loss (bpc of nats per character; nats per frame as they are).
  double metric(double loss) const { return loss / units().nats_per_metric; }

  // The corpus as this task's model reads it (opened by open_task); InputError when the task was
  // made from a checkpoint.
  const SongSource& corpus() const;
  bool has_corpus() const { return corpus_ != nullptr; }
  // The songs training reads: the corpus, with the config's augmentation (train.transpose) where
  // the task has one. Valid while the task lives.
  virtual std::shared_ptr<const SongSource> training_source(const Config& config) const {
    return corpus_;
  }

  // Refuses a config that does not fit this data (InputError naming the key and the file).
  virtual void check_config(const Config& config) const = 0;
  // The head `model.head` stands for: `auto` is the task's own (softmax over symbols, a sigmoid
  // per key); an explicit head is itself.
  virtual HeadKind head(const ModelConfig& model) const = 0;
  // `config` with the model's choices resolved (head: auto; the NADE head's default width), as
  // resume compares them: a run written with `auto` resumes under a config naming its head.
  Config resolved(Config config) const;
  // The model for `config` (parameters drawn from LibTorch's generator, seeded by the caller).
  virtual SequenceModel build_model(const ModelConfig& config) const = 0;
  // Outputs of the model's head (the vocabulary, or the 88 keys): sizes the memory estimate.
  virtual int64_t outputs() const = 0;
  // Artist names (lyrics corpora; empty otherwise).
  virtual const std::vector<std::string>& artists() const;
  // Extra rows for the rank-0 config table, e.g. {"(vocabulary)", "97 symbols"}.
  virtual std::vector<std::pair<std::string, std::string>> table_rows() const { return {}; }

  // Generation during training: writes `stem`.txt, or `stem`.mid and `stem`.png.
  virtual void write_sample(SequenceModelImpl& model, const SampleOptions& options, uint64_t seed,
                            const std::string& stem) const = 0;
  // `chorus sample`: prints the text, or writes the files and prints one JSON line.
  virtual void sample(SequenceModelImpl& model, const SampleRequest& request) const = 0;

  // Checkpoint sidecar: what a model needs besides its parameters (vocab.json; pianoroll.json).
  virtual void write_sidecar(const std::string& checkpoint_dir) const = 0;
  // Resume: the checkpoint's sidecar fits this corpus (InputError naming both otherwise).
  virtual void check_resume(const std::string& checkpoint_dir) const = 0;
  // Eval: `data` (a task opened on `data_path`) can be scored by this model (a task made from its
  // checkpoint `checkpoint`) on `split` (InputError naming the file otherwise).
  virtual void check_eval_data(const Task& data, const std::string& split,
                               const std::string& checkpoint) const = 0;
  // `chorus info`: what a corpus file holds; what a checkpoint's sidecar says.
  virtual nlohmann::json describe_corpus() const = 0;
  virtual nlohmann::json describe_checkpoint() const = 0;
  // Baselines of this data in the task's units (symbol n-grams; a Bernoulli per key), fitted on
  // the corpus's options.train_split; score them with score_baseline on baseline_source().
  virtual std::unique_ptr<Baseline> fit_baseline(const BaselineOptions& options) const = 0;
  virtual const SongSource& baseline_source() const { return corpus(); }
  // Baselines: the text of symbol ids (lyrics); InputError for data without text.
  virtual std::string text_of(const std::vector<int32_t>& ids) const;

 protected:
  std::shared_ptr<const SongSource> corpus_;  // null when made from a checkpoint
};

// The task that trains `config.model` on the corpus at `path`, chosen by the file's "format"
// attribute and model.kind; InputError naming the file when the format is missing or unknown, or
// naming model.kind when that kind of model does not train on this format.
std::unique_ptr<Task> open_task(const std::string& corpus_path, const Config& config);
// The corpus at `path` with its format's first task and a default model (`chorus info`,
// `chorus baseline`: what the data is, not how a model reads it).
std::unique_ptr<Task> open_task(const std::string& corpus_path);

// The task of a trained model: its kind from `config` (the checkpoint's), its vocabulary, artists
// or time grid from the checkpoint directory's sidecar.
std::unique_ptr<Task> task_from_checkpoint(const std::string& checkpoint_dir, const Config& config);

// A `View` (a SongSource over another: a layout, an augmentation) of `inner` made with `args`,
// keeping `inner` alive as long as the view.
template <class View, class... Args>
std::shared_ptr<const SongSource> view_of(std::shared_ptr<const SongSource> inner, Args... args) {
  struct Kept : View {
    Kept(std::shared_ptr<const SongSource> in, Args... a) : View(*in, a...), inner(std::move(in)) {}
    std::shared_ptr<const SongSource> inner;
  };
  return std::make_shared<Kept>(std::move(inner), args...);
}

// Artist id of `name` ("" = 0); InputError listing the known artists when unknown.
int64_t artist_id(const std::vector<std::string>& artists, const std::string& name);

}  // namespace chorus
