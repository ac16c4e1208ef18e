// Per-worker checkpoints (llm.c's protocol) on top of CheckpointStore: rank 0 writes model,
// optimizer, config and vocabulary; every rank writes its own streams (cursor, h, c); a barrier;
// rank 0 commits (manifest, DONE, rename). Resume restores each global stream, so a checkpoint
// resumes on any rank count; training state holds no random generator (masks are counter-based).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "data/errors.h"
#include "data/files.h"
#include "data/hdf5_util.h"
#include "trainer/trainer.h"

namespace chorus {
namespace fs = std::filesystem;
namespace {

std::string streams_file(int rank) {
  char name[64];
  std::snprintf(name, sizeof(name), "streams-rank%05d.pt", rank);
  return name;
}

nlohmann::json vocab_json(const Vocab& vocab, const std::vector<std::string>& artists) {
  nlohmann::json j = vocab.to_json();
  j["artists"] = artists;
  return j;
}

// What a piano-roll model needs to write MIDI at its corpus's grid.
nlohmann::json resolution_json(const PianoRollResolution& r) {
  return {{"time_unit", r.time_unit()},
          {"frames_per_quarter", r.frames_per_quarter},
          {"seconds_per_frame", r.seconds_per_frame}};
}

PianoRollResolution resolution_from_json(const nlohmann::json& j) {
  PianoRollResolution r;
  r.frames_per_quarter = j.at("frames_per_quarter").get<int>();
  r.seconds_per_frame = j.at("seconds_per_frame").get<double>();
  return r;
}

// Keys a resume may not change (DESIGN.md "Resume"): (key, value in a, value in b).
std::vector<std::string> incompatible_keys(const Config& saved, const Config& now) {
  std::vector<std::string> keys;
  auto check = [&](const char* key, const auto& a, const auto& b) {
    if (!(a == b)) keys.push_back(key);
  };
  check("model.kind", saved.model.kind, now.model.kind);
  check("model.embedding_size", saved.model.embedding_size, now.model.embedding_size);
  check("model.hidden_size", saved.model.hidden_size, now.model.hidden_size);
  check("model.layers", saved.model.layers, now.model.layers);
  check("model.condition", saved.model.condition, now.model.condition);
  check("model.artist_embedding_size", saved.model.artist_embedding_size,
        now.model.artist_embedding_size);
  check("train.batch_size", saved.train.batch_size, now.train.batch_size);
  check("train.seq_len", saved.train.seq_len, now.train.seq_len);
  check("data.path", saved.data.path, now.data.path);
  return keys;
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

std::string Trainer::save_checkpoint(bool best) {
  UntimedCollectives untimed(comm_);  // rank 0 writes the shared files while the others wait
  if (comm_.rank() == 0) store_.begin(step_);
  comm_.barrier();
  const std::string dir = store_.staging_path(step_);
  // A failed write or commit: the staging directory is never a checkpoint, so rank 0 frees its
  // space; the complete checkpoints are untouched. (In a multi-rank job main() then aborts.)
  auto abandon = [&](const char* what, const std::exception& e) {
    std::error_code ignored;
    if (comm_.rank() == 0) fs::remove_all(dir, ignored);
    throw std::runtime_error("checkpoint of step " + std::to_string(step_) + " not " + what +
                             " (" + e.what() + "); the previous complete checkpoints are intact");
  };
  // Every file is serialised in memory and written by write_file_atomic, which checks each write:
  // LibTorch's own file writer throws again from its destructor on a full disk (std::terminate),
  // and an unchecked ofstream would leave a short file that the manifest then vouches for.
  try {
    if (comm_.rank() == 0) {
      write_file_atomic(dir + "/model.pt", serialised(model_));
      write_file_atomic(dir + "/optimizer.pt", serialised(*optimizer_));
      write_file_atomic(dir + "/config.yaml", to_yaml(config_));
      if (lyrics_)
        write_file_atomic(dir + "/vocab.json",
                          vocab_json(lyrics_->vocab(), lyrics_->artists()).dump(1));
      else
        write_file_atomic(dir + "/pianoroll.json", resolution_json(rolls_->resolution()).dump(1));
    }
    torch::serialize::OutputArchive archive;
    const auto& cursors = batcher_->cursors();
    torch::Tensor c = torch::empty({static_cast<int64_t>(cursors.size()), 3}, torch::kLong);
    for (size_t b = 0; b < cursors.size(); ++b) {
      c[b][0] = cursors[b].epoch;
      c[b][1] = cursors[b].index;
      c[b][2] = cursors[b].position;
    }
    archive.write("first", torch::tensor({batcher_->first_stream()}, torch::kLong));
    archive.write("cursors", c);
    for (size_t l = 0; l < state_.h.size(); ++l) {  // host copies: any device can read them
      archive.write("h" + std::to_string(l), state_.h[l].to(torch::kCPU));
      archive.write("c" + std::to_string(l), state_.c[l].to(torch::kCPU));
    }
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
    nlohmann::json meta = {{"step", step_}, {"ranks", comm_.size()}, {"streams", streams}};
    if (best_valid_) meta["best_valid_loss"] = *best_valid_;
    try {
      final_dir = store_.commit(step_, meta);
    } catch (const std::exception& e) {
      abandon("committed", e);
    }
    if (best) store_.mark_best(step_, *best_valid_);
    store_.prune(config_.checkpoint.keep);
    log_ << "checkpoint " << final_dir << (best ? " (best)" : "") << std::endl;
  }
  comm_.barrier();
  last_saved_step_ = step_;
  return final_dir;
}

void Trainer::load_checkpoint(const std::string& dir) {
  const nlohmann::json manifest = nlohmann::json::parse(read_file(dir + "/MANIFEST.json"));
  const nlohmann::json& meta = manifest.at("meta");
  const Config saved = read_checkpoint_config(dir);
  const std::vector<std::string> bad = incompatible_keys(saved, config_);
  if (!bad.empty()) {
    std::string msg = "cannot resume from " + dir + ": these keys differ from the checkpoint's "
                      "and may not change on resume:";
    for (const auto& k : bad) msg += " " + k;
    throw InputError(msg);
  }
  if (lyrics_) {
    Vocab vocab;
    std::vector<std::string> artists;
    load_vocab_from(dir, &vocab, &artists);
    if (!(vocab == lyrics_->vocab()) || artists != lyrics_->artists())
      throw InputError("cannot resume from " + dir + ": its vocabulary or artists differ from " +
                       corpus_.path());
  }

  // Mapped to this rank's device: a checkpoint written on a GPU resumes on the CPU and the other
  // way round (the archives record the device each tensor was saved from).
  torch::load(model_, dir + "/model.pt", accelerator_.device);
  torch::load(*optimizer_, dir + "/optimizer.pt", accelerator_.device);

  // Restore each of my global streams from whichever rank's file holds it.
  const int64_t first = batcher_->first_stream(), n = batcher_->num_streams();
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
    for (size_t l = 0; l < state_.h.size(); ++l) {
      torch::Tensor h, cc;
      archive.read("h" + std::to_string(l), h);
      archive.read("c" + std::to_string(l), cc);
      state_.h[l].slice(0, lo - first, hi - first).copy_(h.slice(0, lo - f, hi - f));
      state_.c[l].slice(0, lo - first, hi - first).copy_(cc.slice(0, lo - f, hi - f));
    }
  }
  batcher_->set_cursors(std::move(cursors));
  step_ = meta.at("step").get<int64_t>();
  last_saved_step_ = step_;
  if (meta.contains("best_valid_loss")) best_valid_ = meta.at("best_valid_loss").get<double>();
  truncate_metrics_after(step_);
}

namespace {
// The run's manifest.json as written so far; {} when there is none or it cannot be parsed (it is
// rewritten whole, so a damaged one is replaced rather than fatal).
nlohmann::json read_run_manifest(const std::string& path) {
  try {
    if (fs::exists(path)) return nlohmann::json::parse(read_file(path));
  } catch (const std::exception&) {
  }
  return nlohmann::json::object();
}
}  // namespace

void Trainer::write_run_manifest(const nlohmann::json& run_info) {
  if (comm_.rank() != 0) return;
  const std::string path = config_.run.dir + "/manifest.json";
  const nlohmann::json manifest_before = read_run_manifest(path);
  nlohmann::json start = run_info;
  start["git_revision"] = CHORUS_GIT_REV;
  for (const auto& [key, value] : config_rows(config_)) start["config"][key] = value;
  start["resumed_at_step"] = step_;
  nlohmann::json starts = manifest_before.value("starts", nlohmann::json::array());
  starts.push_back(start);
  nlohmann::json manifest = start;
  manifest["config_yaml"] = to_yaml(config_);
  manifest["starts"] = starts;
  write_file_atomic(path, manifest.dump(2) + "\n");
}

void Trainer::record_run_end(const std::string& status, const std::string& reason) {
  if (comm_.rank() != 0) return;
  const std::string path = config_.run.dir + "/manifest.json";
  nlohmann::json manifest = read_run_manifest(path);
  manifest["end"] = {{"status", status}, {"reason", reason}, {"step", step_},
                     {"time", h5::iso_now()}};
  if (best_valid_) manifest["end"]["best_valid_loss"] = *best_valid_;
  write_file_atomic(path, manifest.dump(2) + "\n");
}

LoadedModel load_model(const std::string& path, std::ostream& log) {
  const std::string dir = CheckpointStore::resolve(path, log);
  LoadedModel m;
  m.config = read_checkpoint_config(dir);
  if (m.frames())
    m.resolution = resolution_from_json(nlohmann::json::parse(read_file(dir + "/pianoroll.json")));
  else
    load_vocab_from(dir, &m.vocab, &m.artists);
  m.model = make_model(m.config.model, m.vocab.size(), static_cast<int64_t>(m.artists.size()));
  torch::load(m.model, dir + "/model.pt", torch::Device(torch::kCPU));  // also one saved on a GPU
  m.model->eval();
  const nlohmann::json manifest = nlohmann::json::parse(read_file(dir + "/MANIFEST.json"));
  m.step = manifest.at("meta").at("step").get<int64_t>();
  return m;
}

}  // namespace chorus
