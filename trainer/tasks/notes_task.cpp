// The note-by-note piano-roll task (model.kind: notes): each frame read as its sounding keys from
// low to high and an end-of-frame symbol (data/note_sequence.h), a recurrence over that one
// sequence, and a softmax over the next symbol restricted to what the rising order allows — so the
// likelihood of a frame is exact and its nats per frame compare with the per-key heads (Walder
// 2016, "Modelling Symbolic Music: Beyond the Piano Roll"). Its features read the symbol before,
// the previous frame's keys and the current frame's keys so far; transposition shifts the frames
// before they are written as notes. Module names: embed (symbols), context (the two key sets).
#include "trainer/tasks/notes_task.h"

#include "data/errors.h"
#include "data/note_sequence.h"
#include "data/transposition.h"
#include "trainer/models/registry.h"
#include "trainer/models/sampling.h"
#include "trainer/tasks/frame_task.h"

namespace chorus {
namespace {

constexpr int64_t kSymbols = kKeys + 1;  // the keys and the end of frame

// Input rows (symbol, previous frame's K keys, current frame's K keys so far) ->
// [embedding of the symbol, projection of the 2K key bits].
class NoteFeaturesImpl : public FeaturesImpl {
 public:
  NoteFeaturesImpl(int64_t keys, int64_t embedding_size) : keys_(keys), size_(2 * embedding_size) {
    embed_ = register_module("embed", torch::nn::Embedding(keys + 1, embedding_size));
    context_ = register_module("context", torch::nn::Linear(2 * keys, embedding_size));
    // A few keys sound at once: columns of N(0, 0.4^2) give the projection of a typical frame
    // (about six keys in the two sets) a scale near the embedding's N(0, 1).
    torch::NoGradGuard no_grad;
    torch::nn::init::normal_(context_->weight, 0.0, 0.4);
    context_->bias.zero_();
  }

  torch::Tensor forward(const torch::Tensor& inputs) override {
    const torch::Tensor symbol = inputs.select(/*dim=*/-1, /*index=*/0);
    const torch::Tensor bits = inputs.narrow(-1, 1, 2 * keys_).to(context_->weight.scalar_type());
    return torch::cat({embed_(symbol), context_(bits)}, /*dim=*/-1);
  }

  int64_t size() const override { return size_; }

 private:
  int64_t keys_, size_;
  torch::nn::Embedding embed_{nullptr};
  torch::nn::Linear context_{nullptr};
};

class NotesTask : public FrameTask {
 public:
  using FrameTask::FrameTask;

  ModelKind kind() const override { return ModelKind::kNotes; }
  int64_t outputs() const override { return kSymbols; }
  std::vector<std::pair<std::string, std::string>> table_rows() const override {
    return {{"(symbols)", std::to_string(kKeys) + " keys + end of frame, keys rising in a frame"}};
  }

  void check_config(const Config& config) const override {
    check_kind(config);
    if (config.model.head != HeadKind::kAuto && config.model.head != HeadKind::kSoftmax)
      throw InputError(path() + ": model.head is '" + name_of(config.model.head) +
                       "', but a notes model draws a frame's keys one by one with a softmax over "
                       "the next symbol (model.head: auto or softmax)");
  }

  HeadKind head(const ModelConfig&) const override { return HeadKind::kSoftmax; }

  SequenceModel build_model(const ModelConfig& config) const override {
    return build_note_model(config, kKeys);
  }

  std::shared_ptr<const SongSource> training_source(const Config& config) const override {
    if (config.train.transpose <= 0) return corpus_;
    return view_of<NoteSource>(
        view_of<TransposedFrames>(frames_, config.train.transpose, config.run.seed));
  }

  void check_eval_data(const Task& data, const std::string&, const std::string&) const override {
    if (data.kind() != ModelKind::kNotes)
      throw InputError(data.corpus().path() + ": a " + name_of(data.kind()) +
                       " corpus, but the model is a note-by-note model (model.kind notes)");
  }

  // On a corpus: the reader, and the note view of it the model reads.
  static std::unique_ptr<Task> open(const std::string& corpus_path) {
    auto reader = std::make_shared<const PianoRollReader>(corpus_path);
    auto task = std::make_unique<NotesTask>(reader, view_of<NoteSource>(reader));
    task->frames_ = reader;
    return task;
  }

 protected:
  // Symbols drawn until `length` frames have ended; the key symbols the order forbids are never
  // drawn, so every frame is written one way and drawing a frame takes at most 89 symbols.
  std::vector<Frame> sample_frames(SequenceModelImpl& model, const std::vector<Frame>& prime,
                                   const SampleOptions& options, uint64_t seed) const override {
    NoteEncoder encoder(kKeys);
    const auto row = [&encoder] {
      torch::Tensor r = torch::empty({1, 1, note_input_width(kKeys)}, torch::kLong);
      encoder.input_row(r.data_ptr<int64_t>());
      return r;
    };
    std::vector<torch::Tensor> rows = {row()};
    SongData frames;
    frames.width = kKeys;
    for (const Frame& f : prime)
      for (int k = 0; k < kKeys; ++k) frames.values.push_back(f[k] ? 1 : 0);
    for (int32_t s : frames_to_symbols(frames)) {
      encoder.push(s);
      rows.push_back(row());
    }
    HeadSampling sampling;
    sampling.temperature = options.temperature;
    sampling.method = options.method;
    int64_t ended = 0;
    GenerationHooks hooks;
    hooks.before_draw = [&](HeadSampling* s) {
      s->excluded.clear();
      for (int64_t id = 1; id < std::min<int64_t>(encoder.floor(), kSymbols); ++id)
        s->excluded.push_back(id);
    };
    hooks.stop = [&](const std::vector<int64_t>&) { return ended == options.length; };
    hooks.next_input = [&](const std::vector<int64_t>& drawn) {
      encoder.push(static_cast<int32_t>(drawn[0]));
      ended += drawn[0] == kEndOfFrame;
      return row();
    };
    std::vector<int32_t> symbols;
    for (const auto& v : generate(model, torch::cat(rows), options.length * kSymbols + 1,
                                  sampling, seed, hooks))
      symbols.push_back(static_cast<int32_t>(v[0]));
    std::vector<Frame> out = prime;
    for (const auto& values : symbols_to_frames(symbols, kKeys)) {
      Frame f;
      for (int k = 0; k < kKeys; ++k) f[k] = values[k] != 0;
      out.push_back(f);
    }
    return out;
  }

 private:
  std::shared_ptr<const SongSource> frames_;  // the reader (null when made from a checkpoint)
};

}  // namespace

SequenceModel build_note_model(const ModelConfig& config, int64_t keys) {
  return build_model(config, std::make_shared<NoteFeaturesImpl>(keys, config.embedding_size),
                     HeadKind::kSoftmax, keys + 1);
}

std::unique_ptr<Task> open_notes_task(const std::string& corpus_path, const Config&) {
  return NotesTask::open(corpus_path);
}

std::unique_ptr<Task> notes_task_from_checkpoint(const std::string& checkpoint_dir, const Config&) {
  return std::make_unique<NotesTask>(frame_task_resolution(checkpoint_dir), checkpoint_dir);
}

}  // namespace chorus
