// The piano-roll task, frame by frame: a model over 88-key frames (a sigmoid per key, or a NADE
// over the keys of a frame), reported in nats per frame (the sum over the keys), with transposed
// training songs as its augmentation (train.transpose).
#include "data/errors.h"
#include "data/transposition.h"
#include "trainer/models/registry.h"
#include "trainer/models/sampling.h"
#include "trainer/tasks/frame_task.h"

namespace chorus {
namespace {

class PianoRollTask : public FrameTask {
 public:
  using FrameTask::FrameTask;

  ModelKind kind() const override { return ModelKind::kPianoRoll; }
  int64_t outputs() const override { return kKeys; }

  void check_config(const Config& config) const override {
    check_kind(config);
    if (config.model.head == HeadKind::kSoftmax)
      throw InputError(path() + ": model.head is 'softmax', an output over symbols; a piano-roll "
                       "model's head is independent or nade (or model.kind notes: a softmax over "
                       "a frame's notes one by one)");
  }

  HeadKind head(const ModelConfig& model) const override {
    return model.head == HeadKind::kAuto ? HeadKind::kIndependent : model.head;
  }

  SequenceModel build_model(const ModelConfig& config) const override {
    return chorus::build_model(config, make_frame_features(kKeys, config.embedding_size),
                               head(config), kKeys);
  }

  std::shared_ptr<const SongSource> training_source(const Config& config) const override {
    if (config.train.transpose <= 0) return corpus_;
    return view_of<TransposedFrames>(corpus_, config.train.transpose, config.run.seed);
  }

  void check_eval_data(const Task& data, const std::string&, const std::string&) const override {
    if (data.kind() != ModelKind::kPianoRoll)
      throw InputError(data.corpus().path() + ": a " + name_of(data.kind()) +
                       " corpus, but the model is a piano-roll model (model.kind pianoroll)");
  }

 protected:
  std::vector<Frame> sample_frames(SequenceModelImpl& model, const std::vector<Frame>& prime,
                                   const SampleOptions& options, uint64_t seed) const override {
    const auto P = static_cast<int64_t>(prime.size()) + 1;  // after the silent start frame
    torch::Tensor feed = torch::zeros({P, 1, kKeys}, torch::kLong);
    for (int64_t i = 1; i < P; ++i)
      for (int k = 0; k < kKeys; ++k) feed[i][0][k] = prime[i - 1][k] ? 1 : 0;
    HeadSampling sampling;
    sampling.temperature = options.temperature;
    std::vector<Frame> frames = prime;
    for (const auto& v : generate(model, feed, options.length, sampling, seed)) {
      Frame f;
      for (int k = 0; k < kKeys; ++k) f[k] = v[k] != 0;
      frames.push_back(f);
    }
    return frames;
  }
};

}  // namespace

std::unique_ptr<Task> open_pianoroll_task(const std::string& corpus_path, const Config&) {
  return std::make_unique<PianoRollTask>(std::make_shared<PianoRollReader>(corpus_path));
}

std::unique_ptr<Task> pianoroll_task_from_checkpoint(const std::string& checkpoint_dir,
                                                     const Config&) {
  return std::make_unique<PianoRollTask>(frame_task_resolution(checkpoint_dir), checkpoint_dir);
}

}  // namespace chorus
