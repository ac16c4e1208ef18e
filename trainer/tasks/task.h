// The task seam: what differs between kinds of data (lyrics, piano rolls) lives behind one
// interface, chosen once from the corpus file's format (or, for a trained model, from its
// checkpoint). A task owns its corpus, builds its model, names its units, generates (text; MIDI,
// PNG and WAV), writes and checks its checkpoint sidecar (vocabulary and artists; time grid), and
// checks that a corpus fits a model for eval and resume. Nothing outside trainer/tasks/ (and the
// config table) reads model.kind or casts to a corpus reader. A new kind of data is one file and
// one line in the table of task.cpp.
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

namespace chorus {

// What one prediction is, and the figure reported beside the loss (nats per prediction).
struct Units {
  std::string unit;            // "char" | "frame"
  std::string metric;          // "bpc" | "nll_per_frame"
  double nats_per_metric = 1;  // the metric is loss / nats_per_metric (bpc: ln 2)
  std::string plural;          // "symbols" | "frames": what counts are counts of
};

// `chorus sample`: what to draw and where to write it.
struct SampleRequest {
  SampleOptions options;      // prime text, length, temperature, method, artist
  uint64_t seed = 1;          // same seed, same song
  // Piano-roll models: where to write, and what to prime with.
  std::string out;            // FILE.mid (required for piano-roll models)
  std::string image;          // FILE.png: the piano roll as a picture
  std::string wav;            // FILE.wav: rendered with fluidsynth and a General MIDI soundfont
  std::string prime_midi;     // prime with this MIDI file's frames
  std::string prime_data;     // or with the first prime_frames frames of song prime_song of
  int64_t prime_song = 0;     // this corpus's valid split
  int64_t prime_frames = 16;
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

  // The corpus, opened by open_task; InputError when the task was made from a checkpoint.
  const SongSource& corpus() const;
  bool has_corpus() const { return corpus_ != nullptr; }

  // Refuses a config that does not fit this data (InputError naming the key and the file).
  virtual void check_config(const Config& config) const = 0;
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
  // Baselines: the text of symbol ids (lyrics); InputError for data without text.
  virtual std::string text_of(const std::vector<int32_t>& ids) const;

 protected:
  std::unique_ptr<SongSource> corpus_;  // null when made from a checkpoint
};

// The task for the corpus at `path`, chosen by its "format" attribute; InputError naming the file
// when it is missing or no task reads that format.
std::unique_ptr<Task> open_task(const std::string& corpus_path);

// The task of a trained model: its kind from `config` (the checkpoint's), its vocabulary, artists
// or time grid from the checkpoint directory's sidecar.
std::unique_ptr<Task> task_from_checkpoint(const std::string& checkpoint_dir, const Config& config);

// Artist id of `name` ("" = 0); InputError listing the known artists when unknown.
int64_t artist_id(const std::vector<std::string>& artists, const std::string& name);

}  // namespace chorus
