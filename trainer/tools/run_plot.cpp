// `chorus plot`: train and valid curves of runs, drawn by gnuplot (we write data and a script,
// gnuplot draws). Invariants: no half-written PNG is ever left at OUT (gnuplot draws in a scratch
// directory, the result is copied to OUT.tmp and renamed), and the scratch directory is always
// removed, whatever fails.
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

#include "data/errors.h"
#include "data/files.h"
#include "trainer/tools/run_report.h"

extern char** environ;

namespace chorus {
namespace fs = std::filesystem;

namespace {

// A scratch directory, removed with everything in it when it goes out of scope.
struct ScratchDir {
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/chorus_plot_XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr)
      throw std::runtime_error(pattern + ": cannot create a scratch directory: " + std::strerror(errno));
    path = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string path;
};

// gnuplot string literals: '...' is literal except that '' stands for a quote (file names);
// "..." interprets backslash escapes, so labels escape \ and " and lose control characters.
std::string gp_single(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}
std::string gp_double(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  }
  return out + "\"";
}

// The curve label: the run directory's base name ("runs/a/" -> "a").
std::string run_label(const std::string& dir) {
  fs::path p = fs::absolute(dir).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

// Runs gnuplot on `script`; its output goes to `log_path`. Returns its exit status.
int run_gnuplot(const std::string& program, const std::string& script, const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> argv = {const_cast<char*>(program.c_str()), const_cast<char*>(script.c_str()),
                             nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc == ENOENT) {
    throw std::runtime_error("cannot run " + program + ": not found on PATH; `chorus plot` draws "
                             "with gnuplot: apt-get install gnuplot-nox (scripts/install-deps.sh "
                             "installs it)");
  }
  if (rc != 0) throw std::runtime_error("cannot run " + program + ": " + std::strerror(rc));
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) throw std::runtime_error("waiting for gnuplot: " + std::string(std::strerror(errno)));
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

bool has_png_signature(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[8] = {};
  in.read(head, 8);
  return in.gcount() == 8 && std::memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0;
}

}  // namespace

nlohmann::json PlotResult::to_json() const {
  return {{"out", out}, {"runs", runs}, {"points", points}, {"y", y_label}};
}

PlotResult plot_runs(const std::vector<std::string>& run_dirs, const std::string& out_png,
                     const PlotOptions& options, std::ostream& log) {
  if (run_dirs.empty()) throw InputError("plot: name at least one run directory");
  if (out_png.empty()) throw InputError("plot: --out FILE.png is required");
  const fs::path out_dir = fs::absolute(out_png).parent_path();
  if (!fs::is_directory(out_dir))
    throw InputError(out_png + ": the directory " + out_dir.string() + " does not exist");

  struct Curve {
    std::string label;
    std::vector<std::pair<int64_t, double>> train, valid;
  };
  std::vector<Curve> curves;
  std::map<std::string, std::string> unit_of;  // label -> unit, for the one-axis check
  std::map<std::string, int> label_count;
  for (const auto& dir : run_dirs) ++label_count[run_label(dir)];
  for (const auto& dir : run_dirs) {
    const auto records = read_metrics(dir, log);
    const std::string unit = metrics_unit(records);
    Curve c;
    c.label = label_count[run_label(dir)] > 1 ? dir : run_label(dir);  // keep twins apart
    for (const auto& r : records) {
      const auto v = metric_value(r, unit, options.metric);
      if (!v || !std::isfinite(*v)) continue;
      if (r.split == "train") c.train.emplace_back(r.step, *v);
      if (r.split == "valid") c.valid.emplace_back(r.step, *v);
    }
    if (c.train.empty() && c.valid.empty()) {
      log << "chorus: " << dir << "/metrics.jsonl: no " << options.metric
          << " values to plot; leaving this run out\n";
      continue;
    }
    for (auto* series : {&c.train, &c.valid})
      std::stable_sort(series->begin(), series->end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
    unit_of[c.label] = unit;
    curves.push_back(std::move(c));
  }
  if (curves.empty()) throw InputError("plot: no " + options.metric + " values in any of the runs");

  // bpc and nats per frame on one axis would mislead: refuse, naming who is what.
  std::set<std::string> units;
  for (const auto& [label, unit] : unit_of) units.insert(unit);
  const bool unit_bound = options.metric == "auto" || options.metric == "loss";
  if (unit_bound && units.size() > 1) {
    std::string who;
    for (const auto& [label, unit] : unit_of)
      who += (who.empty() ? "" : ", ") + label + " (" + (unit.empty() ? "?" : unit) + ")";
    throw InputError("plot: these runs measure different units and cannot share an axis: " + who +
                     "; plot them separately");
  }

  PlotResult result;
  result.out = out_png;
  result.y_label = metric_label(*units.begin(), options.metric);
  const ScratchDir scratch;
  static const char* kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                   "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  std::ostringstream plot;
  for (size_t i = 0; i < curves.size(); ++i) {
    const Curve& c = curves[i];
    result.runs.push_back(c.label);
    const std::string colour = kColours[i % (sizeof(kColours) / sizeof(kColours[0]))];
    for (const auto& [split, series] : {std::pair{"train", &c.train}, std::pair{"valid", &c.valid}}) {
      if (series->empty()) continue;
      const std::string data = scratch.path + "/" + std::to_string(i) + "-" + split + ".dat";
      std::ofstream out(data);
      out << std::setprecision(10);
      for (const auto& [step, value] : *series) out << step << " " << value << "\n";
      if (!out.flush()) throw std::runtime_error(data + ": cannot write plot data");
      result.points += static_cast<int64_t>(series->size());
      plot << (plot.tellp() > 0 ? ", \\\n     " : "plot ") << gp_single(data) << " using 1:2 with "
           << (std::string(split) == "train" ? "lines lw 1.5" : "linespoints lw 2.5 pt 7 ps 1.2")
           << " lc rgb \"" << colour << "\" title " << gp_double(c.label + " " + split);
    }
  }

  const std::string png = scratch.path + "/plot.png";
  const std::string script_path = scratch.path + "/plot.gp";
  {
    std::ofstream script(script_path);
    script << "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
           << "  set terminal pngcairo noenhanced size " << options.width << "," << options.height
           << "\n} else {\n"
           << "  set terminal png noenhanced size " << options.width << "," << options.height
           << "\n}\n"
           << "set output " << gp_single(png) << "\n"
           << "set title " << gp_double(result.y_label + " by step (train: lines, valid: points)") << "\n"
           << "set xlabel \"step\"\nset ylabel " << gp_double(result.y_label) << "\n"
           << "set grid\nset key outside right top\n"
           << plot.str() << "\nunset output\n";
    if (!script.flush()) throw std::runtime_error(script_path + ": cannot write the gnuplot script");
  }
  const std::string gp_log = scratch.path + "/gnuplot.log";
  const int status = run_gnuplot(options.gnuplot, script_path, gp_log);
  std::string messages;
  try {
    messages = read_file(gp_log);
  } catch (const std::exception&) {
  }
  if (status != 0 || !fs::exists(png) || fs::file_size(png) == 0 || !has_png_signature(png)) {
    throw std::runtime_error(options.gnuplot + " failed (exit status " + std::to_string(status) +
                             ") drawing " + out_png + (messages.empty() ? "" : ":\n" + messages));
  }
  if (!messages.empty()) log << "gnuplot: " << messages;
  const std::string staged = out_png + ".tmp";
  std::error_code ec;
  fs::copy_file(png, staged, fs::copy_options::overwrite_existing, ec);
  if (ec) {
    fs::remove(staged, ec);
    throw InputError(staged + ": cannot write (" + ec.message() + ")");
  }
  rename_durably(staged, out_png);
  return result;
}

}  // namespace chorus
