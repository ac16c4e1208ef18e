// What the two piano-roll tasks share (frame by frame: pianoroll_task.cpp; note by note:
// notes_task.cpp): the corpus reader and its time grid, nats per frame, the per-key baselines,
// the checkpoint sidecar (pianoroll.json), and sampling into MIDI, PNG and WAV from a prime of a
// MIDI file or a corpus song. A subclass says how its model reads frames and how it draws them.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/pianoroll.h"
#include "data/pianoroll_corpus.h"
#include "trainer/tasks/task.h"

namespace chorus {

class FrameTask : public Task {
 public:
  // On a corpus (`corpus` is the model's view of `reader`'s songs, or null for the reader itself).
  FrameTask(std::shared_ptr<const PianoRollReader> reader,
            std::shared_ptr<const SongSource> corpus = nullptr);
  // From a checkpoint's pianoroll.json (see frame_task_resolution).
  FrameTask(PianoRollResolution resolution, std::string path);

  const Units& units() const override { return kFrameUnits; }
  void write_sample(SequenceModelImpl& model, const SampleOptions& options, uint64_t seed,
                    const std::string& stem) const override;
  void sample(SequenceModelImpl& model, const SampleRequest& request) const override;
  void write_sidecar(const std::string& checkpoint_dir) const override;
  void check_resume(const std::string&) const override {}  // any time grid trains the same model
  nlohmann::json describe_corpus() const override;
  nlohmann::json describe_checkpoint() const override;
  std::unique_ptr<Baseline> fit_baseline(const BaselineOptions& options) const override;
  const SongSource& baseline_source() const override;

 protected:
  // The prime followed by up to `options.length` frames drawn by `model`.
  virtual std::vector<Frame> sample_frames(SequenceModelImpl& model, const std::vector<Frame>& prime,
                                           const SampleOptions& options, uint64_t seed) const = 0;
  // The frames as a corpus reader (InputError when made from a checkpoint).
  const PianoRollReader& reader() const;
  // Refuses a model.kind other than this task's and conditioning (InputError naming the key).
  void check_kind(const Config& config) const;
  // The corpus file, or the checkpoint directory.
  const std::string& path() const { return path_; }

 private:
  std::shared_ptr<const PianoRollReader> reader_;  // null when made from a checkpoint
  PianoRollResolution resolution_;
  std::string path_;
};

// The time grid recorded in a checkpoint's pianoroll.json (InputError naming the file).
PianoRollResolution frame_task_resolution(const std::string& checkpoint_dir);

}  // namespace chorus
