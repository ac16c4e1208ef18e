// `chorus runs`, and the metrics.jsonl reader that `chorus plot` shares: read what training left
// in run directories (metrics.jsonl, manifest.json, checkpoints/) without touching any of it.
// Invariant: a listing never stops at one damaged run; it says what is wrong with it instead.
#include "trainer/tools/run_report.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>

#include "data/errors.h"
#include "data/files.h"
#include "trainer/tasks/units.h"

namespace chorus {
namespace fs = std::filesystem;
namespace {

bool is_number(const nlohmann::json& j, const char* key) {
  return j.contains(key) && j.at(key).is_number();
}

// "2026-11-26T05:01:47Z" -> seconds since the epoch; nullopt when it is not that shape.
std::optional<std::time_t> parse_iso_utc(const std::string& s) {
  std::tm tm{};
  char z = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 || z != 'Z') {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return timegm(&tm);
}

std::optional<std::time_t> mtime_of(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return st.st_mtime;
}

// 42s, 4m18s, 2h05m, 3d04h.
std::string format_duration(double seconds) {
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  std::ostringstream out;
  out << std::setfill('0');
  if (s < 60) out << s << "s";
  else if (s < 3600) out << s / 60 << "m" << std::setw(2) << s % 60 << "s";
  else if (s < 86400) out << s / 3600 << "h" << std::setw(2) << (s % 3600) / 60 << "m";
  else out << s / 86400 << "d" << std::setw(2) << (s % 86400) / 3600 << "h";
  return out.str();
}

std::string short_unit_label(const std::string& unit) {
  const Units* u = units_named(unit);
  return u ? u->short_label : "nats";
}

// A run is a directory with metrics.jsonl, or with the manifest.json that training writes
// (checkpoints hold MANIFEST.json, which is another thing).
bool is_run_dir(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_regular_file(dir / "metrics.jsonl", ec)) return true;
  if (!fs::is_regular_file(dir / "manifest.json", ec)) return false;
  try {
    const auto m = nlohmann::json::parse(read_file((dir / "manifest.json").string()));
    return m.is_object() && (m.contains("starts") || m.contains("start_time"));
  } catch (const std::exception&) {
    return false;
  }
}

RunSummary summarise_run(const fs::path& dir, const fs::path& root) {
  RunSummary run;
  run.path = dir.string();
  run.name = dir.lexically_relative(root).generic_string();
  if (run.name.empty()) run.name = ".";
  const std::string manifest_path = (dir / "manifest.json").string();
  if (fs::exists(manifest_path)) {
    try {
      const auto m = nlohmann::json::parse(read_file(manifest_path));
      // A resumed run has one entry per start; its wall time counts from the first.
      const auto& first = m.contains("starts") && m["starts"].is_array() && !m["starts"].empty()
                              ? m["starts"][0]
                              : m;
      if (first.is_object() && first.contains("start_time") && first["start_time"].is_string())
        run.start_time = first["start_time"].get<std::string>();
    } catch (const std::exception& e) {
      run.problem = manifest_path + ": cannot be read (" + e.what() + ")";
    }
  }
  const std::string metrics_path = (dir / "metrics.jsonl").string();
  if (fs::exists(metrics_path)) {
    try {
      std::ostringstream ignored;  // a torn last line is normal while a run is being written
      const auto records = read_metrics(dir.string(), ignored);
      if (const std::string unit = metrics_unit(records); !unit.empty()) run.unit = unit;
      for (const auto& r : records) {
        run.steps = std::max(run.steps.value_or(r.step), r.step);
        if (r.split != "valid" || !is_number(r.fields, "loss")) continue;
        if (!run.best_valid || r.fields["loss"].get<double>() <
                                   run.best_valid->fields["loss"].get<double>()) {
          run.best_valid = r;
        }
      }
    } catch (const InputError& e) {
      run.problem = e.what();
    }
  }
  const auto checkpoints = CheckpointStore(dir.string()).complete();
  if (!checkpoints.empty()) run.latest_checkpoint = checkpoints.back();
  const auto start = parse_iso_utc(run.start_time);
  const auto end = mtime_of(metrics_path);
  if (start && end && *end >= *start) run.wall_seconds = static_cast<double>(*end - *start);
  return run;
}

}  // namespace

std::vector<MetricRecord> read_metrics(const std::string& run_dir, std::ostream& log) {
  if (!fs::is_directory(run_dir)) throw InputError(run_dir + ": no such run directory");
  const std::string path = (fs::path(run_dir) / "metrics.jsonl").string();
  if (!fs::is_regular_file(path))
    throw InputError(path + ": no metrics.jsonl in this run directory (has it logged a step yet?)");
  const std::string text = read_file(path);
  std::vector<MetricRecord> records;
  size_t begin = 0;
  for (int64_t line_no = 1; begin < text.size(); ++line_no) {
    size_t end = text.find('\n', begin);
    const bool torn = end == std::string::npos;  // the writer died before the newline
    if (torn) end = text.size();
    const std::string line = text.substr(begin, end - begin);
    begin = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(line_no);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      if (torn) {
        log << "chorus: " << where << ": skipping a torn last line\n";
        break;
      }
      throw InputError(where + ": not a JSON object (" + e.what() + ")");
    }
    if (!j.is_object() || !j.contains("step") || !j["step"].is_number_integer())
      throw InputError(where + ": a metrics record is a JSON object with an integer \"step\"");
    MetricRecord r;
    r.step = j["step"].get<int64_t>();
    if (j.contains("split") && j["split"].is_string()) r.split = j["split"].get<std::string>();
    r.fields = std::move(j);
    records.push_back(std::move(r));
  }
  return records;
}

std::string metrics_unit(const std::vector<MetricRecord>& records) {
  for (const auto& r : records)
    if (r.fields.contains("unit") && r.fields["unit"].is_string())
      return r.fields["unit"].get<std::string>();
  return "";
}

std::optional<double> metric_value(const MetricRecord& record, const std::string& unit,
                                   const std::string& metric) {
  const auto& f = record.fields;
  if (metric == "auto") {
    if (const Units* u = units_named(unit)) {
      if (is_number(f, u->metric)) return f[u->metric].get<double>();
      if (is_number(f, "loss")) return f["loss"].get<double>() / u->nats_per_metric;
    }
    if (is_number(f, "loss")) return f["loss"].get<double>();
    return std::nullopt;
  }
  if (is_number(f, metric.c_str())) return f[metric].get<double>();
  return std::nullopt;
}

std::string metric_label(const std::string& unit, const std::string& metric) {
  const Units* u = units_named(unit);
  if (metric == "auto") return u ? u->label : "loss (nats per symbol)";
  for (const Units* known : kAllUnits)
    if (metric == known->metric) return known->label;
  if (metric == "loss") return std::string("loss (nats per ") + (u ? u->per : "symbol") + ")";
  return metric;
}

nlohmann::json RunSummary::to_json() const {
  nlohmann::json j = {{"name", name}, {"path", path}};
  j["unit"] = unit.empty() ? nlohmann::json() : nlohmann::json(unit);
  j["steps"] = steps ? nlohmann::json(*steps) : nlohmann::json();
  j["best_valid"] = nlohmann::json();
  if (best_valid) {
    j["best_valid"] = {{"step", best_valid->step},
                       {"loss", best_valid->fields["loss"]},
                       {"value", *metric_value(*best_valid, unit, "auto")},
                       {"label", short_unit_label(unit)}};
  }
  j["latest_checkpoint"] = nlohmann::json();
  if (latest_checkpoint)
    j["latest_checkpoint"] = {{"step", latest_checkpoint->step}, {"path", latest_checkpoint->path}};
  j["start_time"] = start_time.empty() ? nlohmann::json() : nlohmann::json(start_time);
  j["wall_s"] = wall_seconds ? nlohmann::json(*wall_seconds) : nlohmann::json();
  if (!problem.empty()) j["problem"] = problem;
  return j;
}

std::vector<RunSummary> list_runs(const std::string& root) {
  std::error_code ec;
  if (!fs::exists(root, ec)) throw InputError(root + ": no such directory (the run root to list)");
  if (!fs::is_directory(root, ec)) throw InputError(root + ": not a directory");
  fs::path base = fs::path(root).lexically_normal();
  if (base.filename().empty() && base.has_relative_path()) base = base.parent_path();  // "x/" -> "x"
  std::set<fs::path> run_dirs;
  if (is_run_dir(base)) run_dirs.insert(base);
  fs::recursive_directory_iterator it(base, fs::directory_options::skip_permission_denied, ec);
  if (ec) throw InputError(root + ": cannot be listed (" + ec.message() + ")");
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (!it->is_directory(ec)) continue;
    const fs::path dir = it->path();
    // A run's own checkpoints and samples are not runs (and can be many directories).
    const std::string leaf = dir.filename().string();
    if ((leaf == "checkpoints" || leaf == "samples") && run_dirs.count(dir.parent_path())) {
      it.disable_recursion_pending();
      continue;
    }
    if (is_run_dir(dir)) run_dirs.insert(dir);
  }
  std::vector<RunSummary> runs;
  for (const auto& dir : run_dirs) runs.push_back(summarise_run(dir, base));
  std::sort(runs.begin(), runs.end(),
            [](const RunSummary& a, const RunSummary& b) { return a.name < b.name; });
  return runs;
}

void print_runs_table(const std::vector<RunSummary>& runs, std::ostream& out) {
  std::vector<std::vector<std::string>> rows = {
      {"run", "steps", "best valid", "latest checkpoint", "wall"}};
  for (const auto& r : runs) {
    std::ostringstream best;
    if (r.best_valid) {
      best << std::fixed << std::setprecision(4) << *metric_value(*r.best_valid, r.unit, "auto")
           << " " << short_unit_label(r.unit) << " @" << r.best_valid->step;
    }
    rows.push_back({r.name, r.steps ? std::to_string(*r.steps) : "-",
                    r.best_valid ? best.str() : "-",
                    r.latest_checkpoint ? fs::path(r.latest_checkpoint->path).filename().string()
                                        : "-",
                    r.wall_seconds ? format_duration(*r.wall_seconds) : "-"});
  }
  std::vector<size_t> width(rows[0].size(), 0);
  for (const auto& row : rows)
    for (size_t c = 0; c < row.size(); ++c) width[c] = std::max(width[c], row[c].size());
  for (const auto& row : rows) {
    std::ostringstream line;
    for (size_t c = 0; c < row.size(); ++c) {
      // Numbers read best right-aligned; the steps column is the only purely numeric one.
      line << "  " << (c == 1 ? std::right : std::left) << std::setw(static_cast<int>(width[c]))
           << row[c];
    }
    std::string text = line.str();
    text.erase(text.find_last_not_of(' ') + 1);
    out << text << "\n";
  }
  for (const auto& r : runs)
    if (!r.problem.empty()) out << "  " << r.name << ": " << r.problem << "\n";
}


}  // namespace chorus
