// Tests of `chorus runs` and `chorus plot` (trainer/tools/run_report.h) on run directories written here:
// metrics.jsonl parsing and its errors, the run listing over a nested tree with real (committed)
// checkpoints, and a PNG drawn by gnuplot (skipped, saying so, when gnuplot is not installed).
#include "trainer/tools/run_report.h"

#include <unistd.h>
#include <utime.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "data/errors.h"
#include "tests/support/fixtures.h"
#include "trainer/run/checkpoint_store.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

void write_text(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// metrics.jsonl of a char run: train every 20 steps up to `steps`, valid every 100 with a
// minimum at step 200 (loss 1.0 nats = 1/ln 2 bpc).
std::string char_metrics(int steps) {
  std::ostringstream s;
  s << std::setprecision(17);
  for (int step = 20; step <= steps; step += 20) {
    const double loss = 4.0 - step / 100.0;
    s << "{\"step\":" << step << ",\"split\":\"train\",\"loss\":" << loss
      << ",\"unit\":\"char\",\"bpc\":" << loss / std::log(2.0) << ",\"lr\":0.002}\n";
    if (step % 100 == 0) {
      const double valid = step == 200 ? 1.0 : 1.5;
      s << "{\"step\":" << step << ",\"split\":\"valid\",\"loss\":" << valid
        << ",\"unit\":\"char\",\"bpc\":" << valid / std::log(2.0) << ",\"symbols\":900}\n";
    }
  }
  return s.str();
}

// metrics.jsonl of a piano-roll run: 3 train records, valid at 40 (7.5) and 60 (6.25).
std::string frame_metrics() {
  std::string s;
  for (int step : {20, 40, 60}) {
    const double loss = 20.0 - step / 10.0;
    s += "{\"step\":" + std::to_string(step) + ",\"split\":\"train\",\"loss\":" +
         std::to_string(loss) + ",\"unit\":\"frame\",\"nll_per_frame\":" + std::to_string(loss) +
         "}\n";
  }
  s += "{\"step\":40,\"split\":\"valid\",\"loss\":7.5,\"unit\":\"frame\",\"nll_per_frame\":7.5}\n";
  s += "{\"step\":60,\"split\":\"valid\",\"loss\":6.25,\"unit\":\"frame\",\"nll_per_frame\":6.25}\n";
  return s;
}

// A complete checkpoint made the way training makes one (begin, files, commit).
void commit_checkpoint(const fs::path& run_dir, int64_t step) {
  const CheckpointStore store(run_dir.string());
  const fs::path staging = store.begin(step);
  write_text(staging / "model.pt", "weights" + std::to_string(step));
  write_text(staging / "streams-rank0.bin", "state");
  store.commit(step, {{"ranks", 1}});
}

bool gnuplot_on_path() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "");
  for (std::string dir; std::getline(dirs, dir, ':');)
    if (!dir.empty() && access((dir + "/gnuplot").c_str(), X_OK) == 0) return true;
  return false;
}

std::string read_bytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

uint32_t big_endian32(const std::string& bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

class RunReportTest : public testing::TempDirTest {};

TEST_F(RunReportTest, ReadsRecordsAndSkipsOnlyATornLastLine) {
  write_text(dir_ + "/run/metrics.jsonl", char_metrics(200) + "{\"step\":220,\"spl");
  std::ostringstream log;
  const auto records = read_metrics(dir_ + "/run", log);
  ASSERT_EQ(records.size(), 12u);  // 10 train + 2 valid; the torn line is not one
  EXPECT_EQ(records.front().step, 20);
  EXPECT_EQ(records.front().split, "train");
  EXPECT_EQ(records.back().split, "valid");
  EXPECT_EQ(metrics_unit(records), "char");
  EXPECT_NE(log.str().find("metrics.jsonl:13: skipping a torn last line"), std::string::npos)
      << log.str();
  // bpc for chars, taken from the record.
  EXPECT_NEAR(*metric_value(records.back(), "char", "auto"), 1.0 / std::log(2.0), 1e-9);
  EXPECT_DOUBLE_EQ(*metric_value(records.back(), "char", "loss"), 1.0);
  EXPECT_FALSE(metric_value(records.back(), "char", "lr").has_value());
}

TEST_F(RunReportTest, MissingRunOrMetricsIsInputErrorNamingThePath) {
  std::ostringstream log;
  fs::create_directories(dir_ + "/empty-run");
  try {
    read_metrics(dir_ + "/empty-run", log);
    FAIL() << "read_metrics accepted a run without metrics.jsonl";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir_ + "/empty-run/metrics.jsonl"), std::string::npos)
        << e.what();
  }
  try {
    plot_runs({dir_ + "/no-such-run"}, dir_ + "/out.png", PlotOptions(), log);
    FAIL() << "plot_runs accepted a missing run directory";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir_ + "/no-such-run"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ + "/out.png"));
}

TEST_F(RunReportTest, MalformedLineIsInputErrorNamingFileAndLine) {
  // Line 3 is broken but not the last line, so it is not a torn write: refuse it.
  write_text(dir_ + "/run/metrics.jsonl",
             "{\"step\":20,\"split\":\"train\",\"loss\":3.0,\"unit\":\"char\",\"bpc\":4.3}\n\n"
             "{\"step\":40,\"split\":\"train\",\"loss\":\n"
             "{\"step\":60,\"split\":\"train\",\"loss\":2.0,\"unit\":\"char\",\"bpc\":2.9}\n");
  std::ostringstream log;
  const std::string where = dir_ + "/run/metrics.jsonl:3";
  for (int via_plot = 0; via_plot < 2; ++via_plot) {
    try {
      if (via_plot) plot_runs({dir_ + "/run"}, dir_ + "/out.png", PlotOptions(), log);
      else read_metrics(dir_ + "/run", log);
      FAIL() << "a malformed line was accepted (via_plot=" << via_plot << ")";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(where), std::string::npos) << e.what();
    }
  }
  // A JSON line without a step is refused too, with its line.
  write_text(dir_ + "/run2/metrics.jsonl", "{\"split\":\"train\",\"loss\":1}\n");
  try {
    read_metrics(dir_ + "/run2", log);
    FAIL() << "a record without a step was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("metrics.jsonl:1"), std::string::npos) << e.what();
  }
}

TEST_F(RunReportTest, PlotWritesAPngWithGnuplot) {
  if (!gnuplot_on_path())
    GTEST_SKIP() << "gnuplot is not installed (apt-get install gnuplot-nox): cannot test the PNG";
  write_text(dir_ + "/runs/alpha/metrics.jsonl", char_metrics(400));
  write_text(dir_ + "/runs/beta/metrics.jsonl", char_metrics(200));
  std::ostringstream log;
  const std::string out = dir_ + "/curves.png";
  const PlotResult r = plot_runs({dir_ + "/runs/alpha", dir_ + "/runs/beta/"}, out, PlotOptions(), log);
  EXPECT_EQ(r.out, out);
  EXPECT_EQ(r.runs, (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(r.points, (20 + 4) + (10 + 2));
  EXPECT_EQ(r.y_label, "bits per character");
  const std::string png = read_bytes(out);
  ASSERT_GE(png.size(), 24u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(big_endian32(png, 16), 1000u);  // width and height as asked
  EXPECT_EQ(big_endian32(png, 20), 600u);
  EXPECT_GT(png.size(), 5000u) << "a PNG this small has no curves on it";
  EXPECT_FALSE(fs::exists(out + ".tmp"));
  EXPECT_EQ(r.to_json()["points"], 36);
}

TEST_F(RunReportTest, PlotWithoutGnuplotSaysHowToInstallIt) {
  write_text(dir_ + "/run/metrics.jsonl", char_metrics(200));
  PlotOptions options;
  options.gnuplot = dir_ + "/no-such-dir/gnuplot";
  std::ostringstream log;
  try {
    plot_runs({dir_ + "/run"}, dir_ + "/out.png", options, log);
    FAIL() << "plot_runs succeeded without gnuplot";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("apt-get install gnuplot-nox"), std::string::npos)
        << e.what();
  }
  EXPECT_FALSE(fs::exists(dir_ + "/out.png"));
  EXPECT_FALSE(fs::exists(dir_ + "/out.png.tmp"));
}

TEST_F(RunReportTest, PlotRefusesCharAndFrameRunsOnOneAxis) {
  write_text(dir_ + "/lyrics/metrics.jsonl", char_metrics(200));
  write_text(dir_ + "/rolls/metrics.jsonl", frame_metrics());
  std::ostringstream log;
  try {
    plot_runs({dir_ + "/lyrics", dir_ + "/rolls"}, dir_ + "/out.png", PlotOptions(), log);
    FAIL() << "plotted bpc and nats per frame on one axis";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("lyrics (char)"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("rolls (frame)"), std::string::npos) << e.what();
  }
}

// root/a/lyrics-run: char run, checkpoints 100 and 200 committed, 300 without DONE; resumed once.
// root/b/c/rolls: frame run, no checkpoints, no manifest.  root/notes: not a run.
TEST_F(RunReportTest, RunsListsANestedTree) {
  const fs::path root = dir_ + "/root";
  const fs::path lyrics = root / "a" / "lyrics-run";
  write_text(lyrics / "metrics.jsonl", char_metrics(300));
  write_text(lyrics / "manifest.json",
             R"({"start_time":"2026-01-01T01:00:00Z","config":{"model.kind":"chars"},)"
             R"("starts":[{"start_time":"2026-01-01T00:00:00Z"},{"start_time":"2026-01-01T01:00:00Z"}]})");
  commit_checkpoint(lyrics, 100);
  commit_checkpoint(lyrics, 200);
  write_text(lyrics / "checkpoints" / "step-00000300" / "model.pt", "half written");
  write_text(lyrics / "samples" / "step-100.txt", "la la");
  // metrics.jsonl last written 1h02m05s after the first start.
  utimbuf times{};
  times.actime = times.modtime = 1767225600 + 3725;  // 2026-01-01T00:00:00Z + 3725 s
  ASSERT_EQ(utime((lyrics / "metrics.jsonl").c_str(), &times), 0);
  write_text(root / "b" / "c" / "rolls" / "metrics.jsonl", frame_metrics());
  write_text(root / "notes" / "README.txt", "not a run");

  const auto runs = list_runs(root.string());
  ASSERT_EQ(runs.size(), 2u);
  const RunSummary& a = runs[0];
  EXPECT_EQ(a.name, "a/lyrics-run");
  EXPECT_EQ(a.unit, "char");
  EXPECT_EQ(a.steps, 300);
  ASSERT_TRUE(a.best_valid.has_value());
  EXPECT_EQ(a.best_valid->step, 200);
  EXPECT_NEAR(*metric_value(*a.best_valid, a.unit, "auto"), 1.0 / std::log(2.0), 1e-9);
  ASSERT_TRUE(a.latest_checkpoint.has_value());
  EXPECT_EQ(a.latest_checkpoint->step, 200);
  EXPECT_EQ(fs::path(a.latest_checkpoint->path).filename(), "step-00000200");
  EXPECT_EQ(a.start_time, "2026-01-01T00:00:00Z");
  ASSERT_TRUE(a.wall_seconds.has_value());
  EXPECT_DOUBLE_EQ(*a.wall_seconds, 3725.0);
  EXPECT_TRUE(a.problem.empty()) << a.problem;

  const RunSummary& b = runs[1];
  EXPECT_EQ(b.name, "b/c/rolls");
  EXPECT_EQ(b.unit, "frame");
  EXPECT_EQ(b.steps, 60);
  ASSERT_TRUE(b.best_valid.has_value());
  EXPECT_EQ(b.best_valid->step, 60);
  EXPECT_DOUBLE_EQ(*metric_value(*b.best_valid, b.unit, "auto"), 6.25);
  EXPECT_FALSE(b.latest_checkpoint.has_value());
  EXPECT_FALSE(b.wall_seconds.has_value());

  const auto ja = a.to_json(), jb = b.to_json();
  EXPECT_EQ(ja["latest_checkpoint"]["step"], 200);
  EXPECT_EQ(ja["best_valid"]["label"], "bpc");
  EXPECT_TRUE(jb["latest_checkpoint"].is_null());
  EXPECT_TRUE(jb["wall_s"].is_null());

  std::ostringstream table;
  print_runs_table(runs, table);
  const std::string t = table.str();
  EXPECT_NE(t.find("1.4427 bpc @200"), std::string::npos) << t;
  EXPECT_NE(t.find("6.2500 nats/frame @60"), std::string::npos) << t;
  EXPECT_NE(t.find("step-00000200"), std::string::npos) << t;
  EXPECT_NE(t.find("1h02m"), std::string::npos) << t;
}

TEST_F(RunReportTest, RunsKeepsListingPastADamagedRun) {
  write_text(dir_ + "/good/metrics.jsonl", frame_metrics());
  write_text(dir_ + "/bad/metrics.jsonl", "not json\n{\"step\":1}\n");
  const auto runs = list_runs(dir_);
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[0].name, "bad");
  EXPECT_NE(runs[0].problem.find("bad/metrics.jsonl:1"), std::string::npos) << runs[0].problem;
  EXPECT_FALSE(runs[0].steps.has_value());
  EXPECT_EQ(runs[1].steps, 60);
}

TEST_F(RunReportTest, RunsOfAnEmptyOrMissingRoot) {
  EXPECT_TRUE(list_runs(dir_).empty());
  try {
    list_runs(dir_ + "/missing");
    FAIL() << "a missing root was accepted";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find(dir_ + "/missing"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace chorus
