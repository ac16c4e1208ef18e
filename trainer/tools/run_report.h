// Looking back at finished or running runs (no LibTorch here): read a run directory's
// metrics.jsonl and manifest.json, summarise the runs under a root (`chorus runs`), and plot
// train/valid curves of several runs with gnuplot (`chorus plot`).
#pragma once
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trainer/run/checkpoint_store.h"

namespace chorus {

// One record of metrics.jsonl: its step, split and the JSON object itself.
struct MetricRecord {
  int64_t step = 0;
  std::string split;  // "train" | "valid" (others are kept and ignored by the plots)
  nlohmann::json fields;
};

// RUN_DIR/metrics.jsonl, in file order. Throws InputError naming the path when the directory or
// the file is missing, and naming file:line for a line that is not a JSON object with a "step".
// A torn last line (no final newline: the writer died mid-line) is skipped with a note on `log`.
std::vector<MetricRecord> read_metrics(const std::string& run_dir, std::ostream& log);

// "char" or "frame" from the records' "unit" field; "" when no record says.
std::string metrics_unit(const std::vector<MetricRecord>& records);

// The value a person reads for a record: bpc for chars, nats per frame for frames
// (metric "auto"), else the named field. nullopt when the record lacks it.
std::optional<double> metric_value(const MetricRecord& record, const std::string& unit,
                                   const std::string& metric);
// "bpc", "nats/frame", "loss (nats/char)", ... for tables and axis labels.
std::string metric_label(const std::string& unit, const std::string& metric);

// ---- chorus runs ----------------------------------------------------------------------------

struct RunSummary {
  std::string name;  // path relative to the root ("." when the root itself is a run)
  std::string path;
  std::string unit;                             // "char" | "frame" | "" (unknown)
  std::optional<int64_t> steps;                 // largest "step" in metrics.jsonl
  std::optional<MetricRecord> best_valid;       // the valid record with the smallest loss
  std::optional<CheckpointEntry> latest_checkpoint;  // newest complete (DONE) checkpoint
  std::string start_time;                       // first start's start_time ("" unknown)
  std::optional<double> wall_seconds;           // first start to metrics.jsonl's last write
  std::string problem;                          // why something above is unknown ("" none)

  nlohmann::json to_json() const;
};

// Every run under `root` (a directory, at any depth, holding metrics.jsonl or a training
// manifest.json), sorted by name. A run's own checkpoints/ and samples/ are not searched.
// Throws InputError when `root` is missing or not a directory; a damaged run is listed with its
// `problem`, it does not stop the listing.
std::vector<RunSummary> list_runs(const std::string& root);
// The aligned table `chorus runs` prints on stderr.
void print_runs_table(const std::vector<RunSummary>& runs, std::ostream& out);

// ---- chorus plot ----------------------------------------------------------------------------

struct PlotOptions {
  // "auto": bits per character for char runs, nats per frame for frame runs. Otherwise any
  // numeric field of the records: "loss", "lr", "grad_norm", "tokens_per_s", ...
  std::string metric = "auto";
  // The gnuplot program, looked up on PATH unless it contains a '/'.
  std::string gnuplot = "gnuplot";
  int width = 1000, height = 600;  // pixels
};

struct PlotResult {
  std::string out;                 // the PNG written
  std::vector<std::string> runs;   // the curve labels, one per run
  int64_t points = 0;              // train + valid points plotted
  std::string y_label;

  nlohmann::json to_json() const;
};

// Draws train (lines) and valid (lines and points) curves of each run, one colour per run, into
// `out_png` via gnuplot (pngcairo when available, else png). The PNG appears atomically
// (OUT.tmp, then rename). Throws InputError for bad input (missing run or metrics.jsonl, a
// malformed line, nothing to plot, runs of different units on one axis) and std::runtime_error
// when gnuplot is missing or fails (with its messages).
PlotResult plot_runs(const std::vector<std::string>& run_dirs, const std::string& out_png,
                     const PlotOptions& options, std::ostream& log);

}  // namespace chorus
