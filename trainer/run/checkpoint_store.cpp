// The on-disk checkpoint protocol: staging directory, MANIFEST.json of sizes and sha256s, DONE
// marker, rename into place; listing, verification, the best marker, pruning and --checkpoint.
// Invariant: a directory named step-N exists only after all its files, its manifest and its DONE
// are durable, and nothing is ever loaded from one that does not verify against its manifest.
#include "trainer/run/checkpoint_store.h"

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <ostream>
#include <stdexcept>
#include <system_error>
#include <utility>

#include "data/errors.h"
#include "data/files.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

constexpr const char* kManifest = "MANIFEST.json";
constexpr const char* kDone = "DONE";
constexpr const char* kBest = "best.json";

std::string step_name(int64_t step) {
  char name[40];
  std::snprintf(name, sizeof name, "step-%08lld", static_cast<long long>(step));
  return name;
}

// The step of a final checkpoint directory name, or nothing. Only the canonical spelling counts,
// so "step-00000100.tmp", "step-100" or "step-00000100x" never pass for a checkpoint.
std::optional<int64_t> parse_step_name(const std::string& name) {
  const std::string prefix = "step-";
  if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return {};
  const std::string digits = name.substr(prefix.size());
  if (digits.size() > 18 || !std::all_of(digits.begin(), digits.end(),
                                         [](char c) { return c >= '0' && c <= '9'; })) {
    return {};
  }
  const int64_t step = std::stoll(digits);
  if (step_name(step) != name) return {};
  return step;
}

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

bool is_file(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

void require_step(int64_t step) {
  if (step < 0) throw std::invalid_argument("checkpoint step must be >= 0, got " + std::to_string(step));
}

// A name from a manifest must stay inside its checkpoint directory: a tampered manifest must not
// make verify() read (or vouch for) files elsewhere.
bool plain_file_name(const std::string& name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
         name.find('\0') == std::string::npos;
}

std::string verify_or_throw(const fs::path& dir) {
  if (!is_dir(dir)) return "no such directory";
  if (!is_file(dir / kDone)) return "no DONE marker";
  if (!is_file(dir / kManifest)) return "no MANIFEST.json";

  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(read_file((dir / kManifest).string()));
  } catch (const nlohmann::json::exception&) {
    return "MANIFEST.json is corrupt";
  }
  if (!manifest.is_object() || !manifest.contains("files") || !manifest["files"].is_object()) {
    return "MANIFEST.json is corrupt";
  }
  const auto& files = manifest["files"];
  for (const auto& [name, entry] : files.items()) {
    if (!plain_file_name(name) || !entry.is_object() || !entry.contains("size") ||
        !entry["size"].is_number_unsigned() || !entry.contains("sha256") ||
        !entry["sha256"].is_string()) {
      return "MANIFEST.json is corrupt";
    }
  }
  // Sizes first for every file: cheap, and a truncated file is the common crash symptom.
  for (const auto& [name, entry] : files.items()) {
    const fs::path file = dir / name;
    if (!is_file(file)) return "file " + name + " is missing";
    const uintmax_t size = fs::file_size(file);
    const uintmax_t expected = entry["size"].get<uintmax_t>();
    if (size != expected) {
      return "file " + name + " has size " + std::to_string(size) + ", expected " +
             std::to_string(expected);
    }
  }
  for (const auto& [name, entry] : files.items()) {
    if (sha256_file((dir / name).string()) != entry["sha256"].get<std::string>()) {
      return "file " + name + " fails its checksum";
    }
  }
  return "";
}

// best.json's step and metric when it names a complete checkpoint that still exists. A
// best.json that cannot be parsed counts as none: it is advice, the checkpoints are the truth.
std::optional<std::pair<CheckpointEntry, double>> read_best(const std::string& root) {
  const fs::path file = fs::path(root) / kBest;
  if (!is_file(file)) return std::nullopt;
  try {
    const auto best = nlohmann::json::parse(read_file(file.string()));
    if (!best.is_object() || !best.contains("step") || !best["step"].is_number_integer() ||
        !best.contains("metric") || !best["metric"].is_number()) {
      return std::nullopt;
    }
    const int64_t step = best["step"].get<int64_t>();
    const fs::path dir = fs::path(root) / step_name(step);
    if (step < 0 || !is_file(dir / kDone)) return std::nullopt;
    return std::make_pair(CheckpointEntry{step, dir.string()}, best["metric"].get<double>());
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

CheckpointStore::CheckpointStore(std::string run_dir)
    : root_((fs::path(std::move(run_dir)) / "checkpoints").string()) {}

std::string CheckpointStore::staging_path(int64_t step) const {
  return (fs::path(root_) / (step_name(step) + ".tmp")).string();
}

std::string CheckpointStore::begin(int64_t step) const {
  require_step(step);
  const std::string staging = staging_path(step);
  // Leftovers of an interrupted save of this step must not slip into the new manifest.
  fs::remove_all(staging);
  fs::create_directories(staging);
  return staging;
}

std::string CheckpointStore::commit(int64_t step, const nlohmann::json& meta) const {
  require_step(step);
  const fs::path staging = staging_path(step);
  if (!is_dir(staging)) {
    throw std::runtime_error(staging.string() + ": no staging directory (begin() was not called)");
  }

  nlohmann::json files = nlohmann::json::object();
  for (const auto& entry : fs::directory_iterator(staging)) {
    const std::string name = entry.path().filename().string();
    // A retried commit may find its own earlier marker files; they are rewritten below.
    if (name == kManifest || name == kDone || name == std::string(kManifest) + ".tmp" ||
        name == std::string(kDone) + ".tmp") {
      continue;
    }
    if (!entry.is_regular_file()) {
      // The manifest covers plain files only; anything else would be saved unverified.
      throw std::runtime_error(entry.path().string() + ": not a regular file in a checkpoint");
    }
    fsync_path(entry.path().string());
    files[name] = {{"size", fs::file_size(entry.path())},
                   {"sha256", sha256_file(entry.path().string())}};
  }
  fs::remove(staging / kDone);

  const nlohmann::json manifest = {{"step", step}, {"files", files}, {"meta", meta}};
  write_file_atomic((staging / kManifest).string(), manifest.dump(2) + "\n");
  // Every file and the manifest are durable before DONE can be.
  fsync_path(staging.string());
  write_file_atomic((staging / kDone).string(), std::to_string(step) + "\n");
  fsync_path(staging.string());

  const fs::path final_dir = fs::path(root_) / step_name(step);
  // rename() cannot replace a non-empty directory: move the old one aside under a name that
  // never counts as a checkpoint, and delete it only once the new one is in place.
  const fs::path aside = fs::path(root_) / (step_name(step) + ".old");
  const bool replacing = fs::exists(final_dir);
  if (replacing) {
    fs::remove_all(aside);
    fs::rename(final_dir, aside);
  }
  fs::rename(staging, final_dir);
  fsync_path(root_);
  if (replacing) {
    fs::remove_all(aside);
    fsync_path(root_);
  }
  // The first checkpoint also created root_ itself; make that entry durable in the run dir.
  const fs::path run_dir = fs::path(root_).parent_path();
  fsync_path(run_dir.empty() ? "." : run_dir.string());
  return final_dir.string();
}

std::vector<CheckpointEntry> CheckpointStore::complete() const {
  std::vector<CheckpointEntry> result;
  std::error_code ec;
  fs::directory_iterator it(root_, ec);
  if (ec) return result;  // no checkpoints directory yet: no checkpoints
  for (const auto& entry : it) {
    const auto step = parse_step_name(entry.path().filename().string());
    if (!step || !is_dir(entry.path()) || !is_file(entry.path() / kDone)) continue;
    result.push_back({*step, entry.path().string()});
  }
  std::sort(result.begin(), result.end(),
            [](const CheckpointEntry& a, const CheckpointEntry& b) { return a.step < b.step; });
  return result;
}

std::string CheckpointStore::verify(const std::string& checkpoint_dir) {
  // A corrupt checkpoint is an expected state, not an error: report it so callers can fall back.
  try {
    return verify_or_throw(checkpoint_dir);
  } catch (const std::exception& e) {
    return std::string("cannot be read: ") + e.what();
  }
}

std::optional<CheckpointEntry> CheckpointStore::newest_valid(std::ostream& log) const {
  const auto all = complete();
  for (auto it = all.rbegin(); it != all.rend(); ++it) {
    const std::string reason = verify(it->path);
    if (reason.empty()) return *it;
    log << "chorus: skipping checkpoint " << it->path << ": " << reason << "\n";
  }
  return std::nullopt;
}

void CheckpointStore::mark_best(int64_t step, double metric) const {
  require_step(step);
  fs::create_directories(root_);
  const nlohmann::json best = {{"step", step}, {"metric", metric}};
  write_file_atomic((fs::path(root_) / kBest).string(), best.dump() + "\n");
}

std::optional<CheckpointEntry> CheckpointStore::best() const {
  const auto best = read_best(root_);
  if (!best) return std::nullopt;
  return best->first;
}

std::optional<double> CheckpointStore::best_metric() const {
  const auto best = read_best(root_);
  if (!best) return std::nullopt;
  return best->second;
}

void CheckpointStore::prune(int64_t keep) const {
  // keep = 0 would delete the checkpoint just written; config validation refuses it earlier.
  if (keep < 1) throw std::invalid_argument("checkpoint.keep must be at least 1");
  const auto best_entry = best();
  const auto all = complete();
  const size_t kept = std::min(all.size(), static_cast<size_t>(keep));
  for (size_t i = 0; i + kept < all.size(); ++i) {
    if (best_entry && all[i].step == best_entry->step) continue;
    fs::remove_all(all[i].path);
  }
  // Called right after a commit, when no save is in flight: any staging directory or
  // moved-aside old checkpoint left now is debris of a crash.
  std::vector<fs::path> debris;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(root_, ec)) {
    const std::string name = entry.path().filename().string();
    for (const std::string suffix : {".tmp", ".old"}) {
      if (has_suffix(name, suffix) && is_dir(entry.path()) &&
          parse_step_name(name.substr(0, name.size() - suffix.size()))) {
        debris.push_back(entry.path());
      }
    }
  }
  for (const auto& dir : debris) fs::remove_all(dir);
  if (!ec) fsync_path(root_);
}

std::string CheckpointStore::resolve(const std::string& path, std::ostream& log) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw InputError(path + ": no such file or directory");

  const fs::path dir(path);
  if (is_file(dir / kDone) || is_file(dir / kManifest)) {
    const std::string reason = verify(path);
    if (!reason.empty()) throw InputError(path + ": checkpoint is not valid: " + reason);
    return path;
  }

  const CheckpointStore store(path);
  if (const auto best = store.best()) {
    const std::string reason = verify(best->path);
    if (reason.empty()) return best->path;
    log << "chorus: skipping checkpoint " << best->path << ": " << reason << "\n";
  }
  if (const auto newest = store.newest_valid(log)) return newest->path;
  throw InputError(path +
                   ": no valid checkpoint (neither a checkpoint directory nor a run directory "
                   "holding one)");
}

}  // namespace chorus
