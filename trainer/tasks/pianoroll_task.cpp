// The piano-roll task: a model over 88-key frames, reported in nats per frame (the sum over the
// keys), sampling frames to MIDI (and a PNG picture, and WAV audio), with the corpus's time grid
// as its checkpoint sidecar (pianoroll.json) so that a sample is written at the corpus's tempo.
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "data/errors.h"
#include "data/files.h"
#include "data/midi.h"
#include "data/pianoroll.h"
#include "data/pianoroll_corpus.h"
#include "data/pianoroll_image.h"
#include "trainer/models/registry.h"
#include "trainer/models/sampling.h"
#include "trainer/tasks/task.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

const Units kFrameUnits = {"frame", "nll_per_frame", 1.0, "frames"};

// How to write and draw a corpus's frames: its own grid; a grid the corpus does not record (the
// benchmark text files) is written as 4 frames per quarter at 120 beats per minute.
MidiWriteTiming midi_write_timing(const PianoRollResolution& resolution) {
  MidiWriteTiming timing;
  if (resolution.frames_per_quarter > 0) timing.frames_per_quarter = resolution.frames_per_quarter;
  timing.seconds_per_frame = resolution.seconds_per_frame;
  return timing;
}

int frames_per_beat(const PianoRollResolution& resolution) {
  return resolution.frames_per_quarter > 0 ? resolution.frames_per_quarter
                                           : (resolution.seconds_per_frame > 0 ? 0 : 4);
}

class PianoRollTask : public Task {
 public:
  explicit PianoRollTask(std::unique_ptr<PianoRollReader> corpus)
      : resolution_(corpus->resolution()), path_(corpus->path()) {
    corpus_ = std::move(corpus);
  }
  PianoRollTask(PianoRollResolution resolution, std::string path)
      : resolution_(std::move(resolution)), path_(std::move(path)) {}

  ModelKind kind() const override { return ModelKind::kPianoRoll; }
  const Units& units() const override { return kFrameUnits; }
  int64_t outputs() const override { return kKeys; }

  void check_config(const Config& config) const override {
    if (config.model.kind != ModelKind::kPianoRoll)
      throw InputError(path_ + ": model.kind is '" + name_of(config.model.kind) +
                       "' but this is a piano-roll corpus (chars trains on lyrics, pianoroll on "
                       "piano rolls)");
    if (config.model.condition != Condition::kNone)
      throw InputError("model.condition must be 'none' for model.kind pianoroll");
    if (config.model.head == HeadKind::kSoftmax)
      throw InputError(path_ + ": model.head is 'softmax', an output over symbols; a piano-roll "
                       "model's head is independent or nade");
  }

  SequenceModel build_model(const ModelConfig& config) const override {
    return chorus::build_model(config, make_frame_features(kKeys, config.embedding_size),
                               resolved_head(config), kKeys);
  }

  // The prime followed by `length` sampled frames.
  std::vector<Frame> sample_frames(SequenceModelImpl& model, const std::vector<Frame>& prime,
                                   const SampleOptions& options, uint64_t seed) const {
    const auto P = static_cast<int64_t>(prime.size()) + 1;  // after the silent start frame
    torch::Tensor feed = torch::zeros({P, 1, kKeys}, torch::kLong);
    for (int64_t i = 1; i < P; ++i)
      for (int k = 0; k < kKeys; ++k) feed[i][0][k] = prime[i - 1][k] ? 1 : 0;
    HeadSampling sampling;
    sampling.temperature = options.temperature;
    std::vector<Frame> frames = prime;
    for (const auto& v : generate(model, feed, /*artist=*/0, options.length, sampling, seed)) {
      Frame f;
      for (int k = 0; k < kKeys; ++k) f[k] = v[k] != 0;
      frames.push_back(f);
    }
    return frames;
  }

  void write_sample(SequenceModelImpl& model, const SampleOptions& options, uint64_t seed,
                    const std::string& stem) const override {
    const std::vector<Frame> frames = sample_frames(model, {}, options, seed);
    write_midi(frames, stem + ".mid", midi_write_timing(resolution_));
    write_pianoroll_png(frames, stem + ".png", frames_per_beat(resolution_));
  }

  void sample(SequenceModelImpl& model, const SampleRequest& r) const override {
    if (r.out.empty())
      throw InputError("a piano-roll model samples into a MIDI file: pass --out FILE.mid");
    std::vector<Frame> prime;
    if (!r.prime_midi.empty()) {
      MidiTiming grid;
      grid.frames_per_quarter = resolution_.frames_per_quarter > 0 ? resolution_.frames_per_quarter : 4;
      grid.seconds_per_frame = resolution_.seconds_per_frame;
      prime = read_midi(r.prime_midi, grid).frames;
    } else if (!r.prime_data.empty()) {
      const PianoRollReader corpus(r.prime_data);
      const SplitIndex& valid = corpus.split("valid");
      if (r.prime_song < 0 || r.prime_song >= valid.songs())
        throw InputError("--prime-song " + std::to_string(r.prime_song) + ": " + r.prime_data +
                         " has " + std::to_string(valid.songs()) + " valid songs");
      prime = corpus.read_song("valid", r.prime_song);
      if (static_cast<int64_t>(prime.size()) > r.prime_frames) prime.resize(r.prime_frames);
    }
    const std::vector<Frame> frames = sample_frames(model, prime, r.options, r.seed);
    write_midi(frames, r.out, midi_write_timing(resolution_));
    nlohmann::json out = {{"midi", r.out}, {"frames", frames.size()}, {"prime_frames", prime.size()}};
    if (!r.image.empty()) {
      write_pianoroll_png(frames, r.image, frames_per_beat(resolution_));
      out["image"] = r.image;
    }
    if (!r.wav.empty()) {
      render_wav(r.out, r.wav);
      out["wav"] = r.wav;
    }
    std::cout << out.dump() << std::endl;
  }

  void write_sidecar(const std::string& dir) const override {
    const nlohmann::json j = {{"time_unit", resolution_.time_unit()},
                              {"frames_per_quarter", resolution_.frames_per_quarter},
                              {"seconds_per_frame", resolution_.seconds_per_frame}};
    write_file_atomic(dir + "/pianoroll.json", j.dump(1));
  }

  void check_resume(const std::string&) const override {}  // any time grid trains the same model

  void check_eval_data(const Task& data, const std::string&, const std::string&) const override {
    if (data.kind() != ModelKind::kPianoRoll)
      throw InputError(data.corpus().path() + ": a " + name_of(data.kind()) +
                       " corpus, but the model is a piano-roll model (model.kind pianoroll)");
  }

  nlohmann::json describe_corpus() const override {
    return static_cast<const PianoRollReader&>(corpus()).info();
  }

  nlohmann::json describe_checkpoint() const override {
    return {{"keys", kKeys}, {"time_unit", resolution_.time_unit()}};
  }

 private:
  // Renders `midi` to `wav` with fluidsynth and a General MIDI soundfont.
  static void render_wav(const std::string& midi, const std::string& wav) {
    std::string soundfont;
    for (const char* sf : {"/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/sounds/sf2/TimGM6mb.sf2",
                           "/usr/share/sounds/sf2/default-GM.sf2"})
      if (fs::exists(sf)) soundfont = sf;
    if (soundfont.empty() || std::system("command -v fluidsynth >/dev/null 2>&1") != 0)
      throw InputError("--wav needs fluidsynth and a General MIDI soundfont: apt-get install "
                       "fluidsynth fluid-soundfont-gm");
    const std::string cmd = "fluidsynth -ni -q -F '" + wav + "' '" + soundfont + "' '" + midi +
                            "' >/dev/null 2>&1";
    if (std::system(cmd.c_str()) != 0 || !fs::exists(wav))
      throw std::runtime_error("fluidsynth failed to render " + midi);
  }

  PianoRollResolution resolution_;
  std::string path_;  // the corpus file, or the checkpoint directory
};

}  // namespace

std::unique_ptr<Task> open_pianoroll_task(const std::string& corpus_path) {
  return std::make_unique<PianoRollTask>(std::make_unique<PianoRollReader>(corpus_path));
}

std::unique_ptr<Task> pianoroll_task_from_checkpoint(const std::string& checkpoint_dir,
                                                     const Config&) {
  const std::string path = checkpoint_dir + "/pianoroll.json";
  const nlohmann::json j = nlohmann::json::parse(read_file(path), nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw InputError(path + ": not a JSON object");
  PianoRollResolution r;
  try {
    r.frames_per_quarter = j.at("frames_per_quarter").get<int>();
    r.seconds_per_frame = j.at("seconds_per_frame").get<double>();
  } catch (const nlohmann::json::exception& e) {
    throw InputError(path + ": " + e.what());
  }
  return std::make_unique<PianoRollTask>(r, checkpoint_dir);
}

}  // namespace chorus
