// The units losses are reported in, one row per unit, shared by the tasks (which report in them)
// and the run reports and plots (which read them back from metrics.jsonl without LibTorch). A
// task with a new unit adds a row here; nothing else names units.
#pragma once
#include <string>

namespace chorus {

// What one counted prediction is, and the figure reported beside the loss (nats per prediction).
struct Units {
  const char* unit;        // "char" | "frame": what metrics.jsonl records as "unit"
  const char* metric;      // "bpc" | "nll_per_frame": the figure's field in every record
  double nats_per_metric;  // the metric is loss / nats_per_metric (bpc: ln 2)
  const char* plural;      // "symbols" | "frames": what counts are counts of
  const char* per;         // "character" | "frame": "loss (nats per ...)"
  const char* short_label; // "bpc" | "nats/frame": tables
  const char* label;       // "bits per character" | "nats per frame": plot axes
};

inline constexpr Units kCharUnits = {"char",      "bpc",          0.69314718055994530942 /* ln 2 */,
                                     "symbols",   "character",    "bpc",
                                     "bits per character"};
inline constexpr Units kFrameUnits = {"frame", "nll_per_frame", 1.0, "frames", "frame",
                                      "nats/frame", "nats per frame"};
inline constexpr const Units* kAllUnits[] = {&kCharUnits, &kFrameUnits};

// The row of `unit` (as metrics.jsonl records it); nullptr for an unknown one (a run written by a
// later version): reports then fall back to the plain loss in nats.
inline const Units* units_named(const std::string& unit) {
  for (const Units* u : kAllUnits)
    if (unit == u->unit) return u;
  return nullptr;
}

}  // namespace chorus
