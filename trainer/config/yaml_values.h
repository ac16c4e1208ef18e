// Reading one config value from a YAML node and printing it back (trainer/config/config.cpp's
// table uses these for every field), and the "did you mean" of a misspelt key. Each read()
// stores the node's value or returns why it cannot ("expected ..., got ..."), so the table can
// report every problem at once. Internal to trainer/config/.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "trainer/config/config.h"

namespace chorus::config_values {

std::string describe(const YAML::Node& n);  // "'text'", "a list", "a mapping", "nothing"

std::string format(int64_t v);
std::string format(uint64_t v);
std::string format(const std::string& v);
std::string format(double v);  // the shortest text that reads back as the same double
std::string format(const RecomputeEvery& v);
template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
std::string format(E v) {
  return name_of(v);
}
// A YAML double-quoted string: control bytes escaped, so the text round-trips on one line.
std::string quote(const std::string& s);

std::string read(const YAML::Node& n, std::string* out);
std::string read(const YAML::Node& n, int64_t* out);
std::string read(const YAML::Node& n, uint64_t* out);
std::string read(const YAML::Node& n, double* out);
std::string read(const YAML::Node& n, RecomputeEvery* out);
template <typename E, typename = std::enable_if_t<std::is_enum_v<E>>>
std::string read(const YAML::Node& n, E* out) {
  if (!n.IsScalar()) return "expected a string, got " + describe(n);
  if (!parse_choice(n.Scalar(), out))
    return "must be one of " + choice_list<E>() + "; got '" + n.Scalar() + "'";
  return "";
}

// " (did you mean 'x'?)" for the candidate closest to `text` by edit distance, or "" when
// nothing is within `limit` (a far-fetched suggestion misleads more than none). `score` ranks
// a candidate (lower is closer); edit_distance is the usual one.
size_t edit_distance(const std::string& a, const std::string& b);
template <typename Score>
std::string did_you_mean(const std::vector<std::string>& candidates, size_t limit, Score score) {
  const std::string* best = nullptr;
  size_t best_score = limit + 1;
  for (const std::string& c : candidates) {
    size_t s = score(c);
    if (s < best_score) best = &c, best_score = s;
  }
  return best ? " (did you mean '" + *best + "'?)" : "";
}

}  // namespace chorus::config_values
