// One config value from a YAML node, and back. Invariant: format() and read() round-trip every
// value exactly (doubles as their shortest exact text), and no read accepts a value of another
// type silently (an integer field refuses 2.5, a number field refuses inf and nan).
#include "trainer/config/yaml_values.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace chorus::config_values {
namespace {

// from_chars, but the whole text must be consumed; a leading '+' is allowed as in YAML.
template <typename T>
std::errc parse_number(std::string_view s, T* out) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec == std::errc() && end != s.data() + s.size()) return std::errc::invalid_argument;
  return ec;
}

}  // namespace

std::string describe(const YAML::Node& n) {
  if (n.IsScalar()) return "'" + n.Scalar() + "'";
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  return "nothing";
}

std::string format(int64_t v) { return std::to_string(v); }
std::string format(uint64_t v) { return std::to_string(v); }
std::string format(const std::string& v) { return v; }
std::string format(double v) {
  char buf[40];  // shortest text that reads back as the same double; locale-independent
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
}
std::string format(const RecomputeEvery& v) { return v.text(); }

std::string quote(const std::string& s) {
  std::string q = "\"";
  for (unsigned char ch : s) {
    if (ch == '\n' || ch == '\t') {  // the usual escapes, for a readable resolved config
      q += ch == '\n' ? "\\n" : "\\t";
    } else if (ch == '"' || ch == '\\') {
      q += '\\';
      q += static_cast<char>(ch);
    } else if (ch < 0x20 || ch == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", ch);
      q += buf;
    } else {
      q += static_cast<char>(ch);
    }
  }
  return q + "\"";
}

std::string read(const YAML::Node& n, std::string* out) {
  if (n.IsNull()) {  // `valid_split:` with nothing after it means the empty string
    out->clear();
    return "";
  }
  if (!n.IsScalar()) return "expected a string, got " + describe(n);
  *out = n.Scalar();
  return "";
}

std::string read(const YAML::Node& n, int64_t* out) {
  if (!n.IsScalar()) return "expected an integer, got " + describe(n);
  std::errc ec = parse_number(n.Scalar(), out);
  if (ec == std::errc::result_out_of_range) return "integer out of range, got " + describe(n);
  return ec == std::errc() ? "" : "expected an integer, got " + describe(n);
}

std::string read(const YAML::Node& n, uint64_t* out) {
  const std::string expected = "expected a non-negative integer, got ";
  if (!n.IsScalar() || n.Scalar().empty() || n.Scalar()[0] == '-') return expected + describe(n);
  std::errc ec = parse_number(n.Scalar(), out);
  if (ec == std::errc::result_out_of_range) return "integer out of range, got " + describe(n);
  return ec == std::errc() ? "" : expected + describe(n);
}

std::string read(const YAML::Node& n, double* out) {
  if (!n.IsScalar()) return "expected a number, got " + describe(n);
  double v = 0;
  // from_chars also takes "inf" and "nan"; no setting of ours means either.
  if (parse_number(n.Scalar(), &v) != std::errc() || !std::isfinite(v))
    return "expected a finite number, got " + describe(n);
  *out = v;
  return "";
}

std::string read(const YAML::Node& n, RecomputeEvery* out) {
  std::string text;
  if (!n.IsNull() && !n.IsScalar()) return "expected a string, got " + describe(n);
  if (n.IsScalar()) text = n.Scalar();
  if (!RecomputeEvery::parse(text, out))
    return "must be 'auto' or a whole number >= 0, got '" + text + "'";
  return "";
}

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = up;
    }
  }
  return row[b.size()];
}

}  // namespace chorus::config_values
