// Checkpoints of a run. Invariants: only rank 0 writes shared files; every rank writes exactly
// its own streams' file; a failed write or commit never leaves a directory that looks complete
// and never touches the complete ones; a load verifies the manifest's checksums first.
#include "trainer/run/checkpointer.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "data/errors.h"
#include "data/files.h"

namespace chorus {
namespace fs = std::filesystem;
namespace {

std::string streams_file(int rank) {
  char name[64];
  std::snprintf(name, sizeof(name), "streams-rank%05d.pt", rank);
  return name;
}

// A module's or optimizer's torch::save bytes, in memory.
template <typename T>
std::string serialised(const T& value) {
  std::ostringstream out;
  torch::save(value, out);
  return out.str();
}

Config read_checkpoint_config(const std::string& dir) {
  const std::string path = dir + "/config.yaml";
  return parse_config(read_file(path), path, {});
}

}  // namespace

Checkpointer::Checkpointer(const Config& config, const Task& task, Communicator& comm,
                           std::ostream& log)
    : config_(config), task_(task), comm_(comm), log_(log), store_(config.run.dir) {}

bool Checkpointer::due(int64_t step, bool last) const {
  const int64_t every = config_.checkpoint.every;
  return ((every > 0 && step % every == 0) || last) && last_saved_ != step;
}

std::string Checkpointer::save(const TrainingState& s, bool best) {
  UntimedCollectives untimed(comm_);  // rank 0 writes the shared files while the others wait
  const int64_t step = s.step;
  if (comm_.rank() == 0) store_.begin(step);
  comm_.barrier();
  const std::string dir = store_.staging_path(step);
  // A failed write or commit: the staging directory is never a checkpoint, so rank 0 frees its
  // space; the complete checkpoints are untouched. (In a multi-rank job main() then aborts.)
  auto abandon = [&](const char* what, const std::exception& e) {
    std::error_code ignored;
    if (comm_.rank() == 0) fs::remove_all(dir, ignored);
    throw std::runtime_error("checkpoint of step " + std::to_string(step) + " not " + what +
                             " (" + e.what() + "); the previous complete checkpoints are intact");
  };
  // Every file is serialised in memory and written by write_file_atomic, which checks each write:
  // LibTorch's own file writer throws again from its destructor on a full disk (std::terminate),
  // and an unchecked ofstream would leave a short file that the manifest then vouches for.
  try {
    if (comm_.rank() == 0) {
      write_file_atomic(dir + "/model.pt",
                        serialised(std::static_pointer_cast<torch::nn::Module>(
                            s.model.shared_from_this())));
      write_file_atomic(dir + "/optimizer.pt", serialised(s.optimizer));
      write_file_atomic(dir + "/config.yaml", to_yaml(config_));
      task_.write_sidecar(dir);
    }
    torch::serialize::OutputArchive archive;
    const auto& cursors = s.batcher.cursors();
    torch::Tensor c = torch::empty({static_cast<int64_t>(cursors.size()), 3}, torch::kLong);
    for (size_t b = 0; b < cursors.size(); ++b) {
      c[b][0] = cursors[b].epoch;
      c[b][1] = cursors[b].index;
      c[b][2] = cursors[b].position;
    }
    archive.write("first", torch::tensor({s.batcher.first_stream()}, torch::kLong));
    archive.write("cursors", c);
    const std::vector<std::string> names = s.model.recurrence().state_names();
    for (size_t i = 0; i < names.size(); ++i)  // host copies: any device can read them
      archive.write(names[i], s.state.tensors[i].to(torch::kCPU));
    std::ostringstream bytes;
    archive.save_to(bytes);
    write_file_atomic(dir + "/" + streams_file(comm_.rank()), bytes.str());
  } catch (const std::exception& e) {
    abandon("written", e);
  }
  comm_.barrier();
  std::string final_dir;
  if (comm_.rank() == 0) {
    const int64_t per_rank = config_.train.batch_size / comm_.size();
    nlohmann::json streams = nlohmann::json::array();
    for (int r = 0; r < comm_.size(); ++r)
      streams.push_back({{"file", streams_file(r)}, {"first", r * per_rank}, {"count", per_rank}});
    nlohmann::json meta = {{"step", step}, {"ranks", comm_.size()}, {"streams", streams}};
    if (s.best_valid) meta["best_valid_loss"] = *s.best_valid;
    try {
      final_dir = store_.commit(step, meta);
    } catch (const std::exception& e) {
      abandon("committed", e);
    }
    if (best) store_.mark_best(step, *s.best_valid);
    store_.prune(config_.checkpoint.keep);
    log_ << "checkpoint " << final_dir << (best ? " (best)" : "") << std::endl;
  }
  comm_.barrier();
  last_saved_ = step;
  return final_dir;
}

std::string Checkpointer::resume_point(bool resume) {
  std::string dir;
  if (comm_.rank() == 0) {
    const bool has_any = !store_.complete().empty();
    if (resume) {
      if (auto newest = store_.newest_valid(log_)) dir = newest->path;
      else log_ << "chorus: --resume: no complete checkpoint in " << store_.root()
                << "; starting fresh\n";
    } else if (has_any) {
      dir = "!";
    }
  }
  comm_.broadcast(&dir, /*root=*/0);
  if (dir == "!")
    throw InputError(config_.run.dir + " already holds checkpoints: pass --resume to continue "
                     "that run, or choose another run.dir");
  return dir;
}

void Checkpointer::load(const std::string& dir, TrainingState& s, torch::Device device) {
  const nlohmann::json manifest = nlohmann::json::parse(read_file(dir + "/MANIFEST.json"));
  const nlohmann::json& meta = manifest.at("meta");
  const std::vector<std::string> bad =
      keys_fixed_on_resume_that_differ(task_.resolved(read_checkpoint_config(dir)),
                                       task_.resolved(config_));
  if (!bad.empty()) {
    std::string msg = "cannot resume from " + dir + ": these keys differ from the checkpoint's "
                      "and may not change on resume:";
    for (const auto& k : bad) msg += " " + k;
    throw InputError(msg);
  }
  task_.check_resume(dir);

  // Mapped to this rank's device: a checkpoint written on a GPU resumes on the CPU and the other
  // way round (the archives record the device each tensor was saved from).
  auto module = std::static_pointer_cast<torch::nn::Module>(s.model.shared_from_this());
  torch::load(module, dir + "/model.pt", device);
  torch::load(s.optimizer, dir + "/optimizer.pt", device);

  // Restore each of my global streams from whichever rank's file holds it.
  const int64_t first = s.batcher.first_stream(), n = s.batcher.num_streams();
  const std::vector<std::string> names = s.model.recurrence().state_names();
  std::vector<StreamCursor> cursors(n);
  for (const auto& entry : meta.at("streams")) {
    const int64_t f = entry.at("first"), count = entry.at("count");
    const int64_t lo = std::max(first, f), hi = std::min(first + n, f + count);
    if (lo >= hi) continue;
    torch::serialize::InputArchive archive;
    archive.load_from(dir + "/" + entry.at("file").get<std::string>(), torch::Device(torch::kCPU));
    torch::Tensor c;
    archive.read("cursors", c);
    for (int64_t g = lo; g < hi; ++g) {
      cursors[g - first] = {c[g - f][0].item<int64_t>(), c[g - f][1].item<int64_t>(),
                            c[g - f][2].item<int64_t>()};
    }
    for (size_t i = 0; i < names.size(); ++i) {
      torch::Tensor saved;
      archive.read(names[i], saved);
      s.state.tensors[i].slice(0, lo - first, hi - first).copy_(saved.slice(0, lo - f, hi - f));
    }
  }
  s.batcher.set_cursors(std::move(cursors));
  s.step = meta.at("step").get<int64_t>();
  last_saved_ = s.step;
  if (meta.contains("best_valid_loss")) s.best_valid = meta.at("best_valid_loss").get<double>();
}

LoadedModel load_model(const std::string& path, std::ostream& log) {
  const std::string dir = CheckpointStore::resolve(path, log);
  LoadedModel m;
  m.config = read_checkpoint_config(dir);
  m.task = task_from_checkpoint(dir, m.config);
  m.model = m.task->build_model(m.config.model);
  auto module = std::static_pointer_cast<torch::nn::Module>(m.model);
  torch::load(module, dir + "/model.pt", torch::Device(torch::kCPU));  // also one saved on a GPU
  m.model->eval();
  const nlohmann::json manifest = nlohmann::json::parse(read_file(dir + "/MANIFEST.json"));
  m.step = manifest.at("meta").at("step").get<int64_t>();
  return m;
}

}  // namespace chorus
