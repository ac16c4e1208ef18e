// The piano-roll tasks' shared half. Invariant: a sample is written at the corpus's own time grid
// (recorded in the checkpoint), whichever model drew it.
#include "trainer/tasks/frame_task.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "data/errors.h"
#include "data/files.h"
#include "data/midi.h"
#include "data/pianoroll_image.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

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

// Renders `midi` to `wav` with fluidsynth and a General MIDI soundfont.
void render_wav(const std::string& midi, const std::string& wav) {
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

}  // namespace

FrameTask::FrameTask(std::shared_ptr<const PianoRollReader> reader,
                     std::shared_ptr<const SongSource> corpus)
    : reader_(std::move(reader)), resolution_(reader_->resolution()), path_(reader_->path()) {
  corpus_ = corpus ? std::move(corpus) : reader_;
}

FrameTask::FrameTask(PianoRollResolution resolution, std::string path)
    : resolution_(std::move(resolution)), path_(std::move(path)) {}

const PianoRollReader& FrameTask::reader() const {
  if (!reader_) throw InputError("this task was made from a checkpoint and has no corpus");
  return *reader_;
}

void FrameTask::check_kind(const Config& config) const {
  if (config.model.kind != kind())
    throw InputError(path_ + ": model.kind is '" + name_of(config.model.kind) + "', but this task "
                     "trains model.kind " + name_of(kind()));
  if (config.model.condition != Condition::kNone)
    throw InputError("model.condition must be 'none' for model.kind " + name_of(kind()));
}

void FrameTask::write_sample(SequenceModelImpl& model, const SampleOptions& options,
                             uint64_t seed, const std::string& stem) const {
  const std::vector<Frame> frames = sample_frames(model, {}, options, seed);
  write_midi(frames, stem + ".mid", midi_write_timing(resolution_));
  write_pianoroll_png(frames, stem + ".png", frames_per_beat(resolution_));
}

void FrameTask::sample(SequenceModelImpl& model, const SampleRequest& r) const {
  if (r.out.empty())
    throw InputError("a piano-roll model samples into a MIDI file: pass --out FILE.mid");
  std::vector<Frame> prime;
  if (!r.prime_file.empty()) {
    MidiTiming grid;
    grid.frames_per_quarter = resolution_.frames_per_quarter > 0 ? resolution_.frames_per_quarter : 4;
    grid.seconds_per_frame = resolution_.seconds_per_frame;
    prime = read_midi(r.prime_file, grid).frames;
  } else if (!r.prime_data.empty()) {
    const PianoRollReader corpus(r.prime_data);
    const SplitIndex& valid = corpus.split("valid");
    if (r.prime_song < 0 || r.prime_song >= valid.songs())
      throw InputError("--prime-song " + std::to_string(r.prime_song) + ": " + r.prime_data +
                       " has " + std::to_string(valid.songs()) + " valid songs");
    prime = corpus.read_song("valid", r.prime_song);
    if (static_cast<int64_t>(prime.size()) > r.prime_length) prime.resize(r.prime_length);
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

void FrameTask::write_sidecar(const std::string& dir) const {
  const nlohmann::json j = {{"time_unit", resolution_.time_unit()},
                            {"frames_per_quarter", resolution_.frames_per_quarter},
                            {"seconds_per_frame", resolution_.seconds_per_frame}};
  write_file_atomic(dir + "/pianoroll.json", j.dump(1));
}

nlohmann::json FrameTask::describe_corpus() const { return reader().info(); }

nlohmann::json FrameTask::describe_checkpoint() const {
  return {{"keys", kKeys}, {"time_unit", resolution_.time_unit()}};
}

std::unique_ptr<Baseline> FrameTask::fit_baseline(const BaselineOptions& options) const {
  return fit_frame_baseline(reader(), options);
}

const SongSource& FrameTask::baseline_source() const { return reader(); }

PianoRollResolution frame_task_resolution(const std::string& checkpoint_dir) {
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
  return r;
}

}  // namespace chorus
