// metrics.jsonl, manifest.json and the progress lines. Invariants: records are appended whole
// and flushed (a reader sees complete lines but perhaps a torn last one after a crash, which
// truncate_after drops); the manifest is rewritten whole, atomically, so it is never half-written.
#include "trainer/run/run_log.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "data/files.h"
#include "data/hdf5_util.h"
#include "trainer/run/git_revision.h"

namespace chorus {
namespace fs = std::filesystem;
namespace {

// The run's manifest.json as written so far; {} when there is none or it cannot be parsed (it is
// rewritten whole, so a damaged one is replaced rather than fatal).
nlohmann::json read_manifest(const std::string& path) {
  try {
    if (fs::exists(path)) return nlohmann::json::parse(read_file(path));
  } catch (const std::exception&) {
  }
  return nlohmann::json::object();
}

}  // namespace

RunLog::RunLog(const Config& config, const Task& task, bool writer, std::ostream& log)
    : config_(config), task_(task), writer_(writer), log_(log) {}

void RunLog::start(const nlohmann::json& run_info, int64_t resumed_at_step) {
  if (!writer_) return;
  fs::create_directories(config_.run.dir);
  const std::string file = path("manifest.json");
  const nlohmann::json before = read_manifest(file);
  nlohmann::json start = run_info;
  start["git_revision"] = git_revision();
  for (const auto& [key, value] : config_rows(config_)) start["config"][key] = value;
  start["resumed_at_step"] = resumed_at_step;
  nlohmann::json starts = before.value("starts", nlohmann::json::array());
  starts.push_back(start);
  nlohmann::json manifest = start;
  manifest["config_yaml"] = to_yaml(config_);
  manifest["starts"] = starts;
  write_file_atomic(file, manifest.dump(2) + "\n");
}

void RunLog::end(const std::string& status, const std::string& reason, int64_t step,
                 std::optional<double> best_valid) {
  if (!writer_) return;
  const std::string file = path("manifest.json");
  nlohmann::json manifest = read_manifest(file);
  manifest["end"] = {{"status", status}, {"reason", reason}, {"step", step}, {"time", h5::iso_now()}};
  if (best_valid) manifest["end"]["best_valid_loss"] = *best_valid;
  write_file_atomic(file, manifest.dump(2) + "\n");
}

void RunLog::train(const StepResult& r, double symbols_per_s, int64_t bad_steps) {
  nlohmann::json record = {{"step", r.step}, {"split", "train"}};
  record.update(task_.metrics(r.loss * r.count, r.count));  // a sum over a count, as every record
  record.update({{"lr", r.lr}, {"tokens_per_s", symbols_per_s}, {"grad_norm", r.grad_norm},
                 {"bad_steps", bad_steps}});
  append(record);
  if (!writer_) return;
  const double eta = symbols_per_s > 0
                         ? (config_.train.steps - r.step) * r.count / symbols_per_s
                         : 0.0;
  const Units& units = task_.units();
  std::ostringstream line;
  line << "step " << r.step << "/" << config_.train.steps << " | loss " << std::fixed
       << std::setprecision(4) << r.loss;
  if (units.nats_per_metric != 1.0)  // a figure other than the loss itself (bpc)
    line << " | " << units.metric << " " << std::setprecision(3) << task_.metric(r.loss);
  line << " | lr " << std::scientific << std::setprecision(2) << r.lr
       << " | " << std::fixed << std::setprecision(0) << symbols_per_s << " " << units.plural << "/s | ETA "
       << static_cast<int64_t>(eta) / 60 << "m" << std::setw(2) << std::setfill('0')
       << static_cast<int64_t>(eta) % 60 << "s";
  log_ << line.str() << std::endl;
}

void RunLog::valid(int64_t step, double loss_sum, double count, int64_t songs) {
  nlohmann::json record = {{"step", step}, {"split", "valid"}};
  record.update(task_.metrics(loss_sum, count));
  const double loss = record["loss"].get<double>();
  record.update({{"symbols", count}, {"songs", songs}});
  append(record);
  if (!writer_) return;
  const Units& units = task_.units();
  log_ << "valid step " << step << " | loss " << std::fixed << std::setprecision(4) << loss;
  if (units.nats_per_metric != 1.0) log_ << " | " << units.metric << " " << task_.metric(loss);
  log_ << " | " << static_cast<int64_t>(count) << " " << units.plural << std::endl;
}

void RunLog::append(const nlohmann::json& record) {
  if (!writer_) return;
  const std::string file = path("metrics.jsonl");
  std::ofstream out(file, std::ios::app);
  out << record.dump() << "\n";
  out.flush();
  if (!out) throw std::runtime_error(file + ": cannot append a record (disk full?)");
}

void RunLog::truncate_after(int64_t step) {
  if (!writer_) return;
  const std::string file = path("metrics.jsonl");
  if (!fs::exists(file)) return;
  std::ifstream in(file);
  std::string line, kept;
  while (std::getline(in, line)) {
    try {
      if (nlohmann::json::parse(line).value("step", int64_t{0}) <= step) kept += line + "\n";
    } catch (const nlohmann::json::exception&) {  // a line cut by a crash
    }
  }
  write_file_atomic(file, kept);
}

void RunLog::note(const std::string& message) {
  if (writer_) log_ << "chorus: " << message << "\n";
}

}  // namespace chorus
