// The experiment config: YAML text + "--set section.key=value" overrides -> validated Config,
// and back (to_yaml, config_rows). Invariant: every field is listed once, in kFields, with its key
// taken from the member's own spelling; parse, to_yaml, rows and == all walk that one table, so
// they cannot disagree and parse_config(to_yaml(c)) == c. Every problem is collected, then
// reported at once in one InputError (one line each, naming the file or --set and the key).
#include "trainer/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string_view>
#include <utility>
#include <variant>

#include "data/errors.h"

namespace chorus {
namespace {

// Accessors take Config& so that one table serves reading and writing.
template <typename T>
using Accessor = T& (*)(Config&);
using Ref = std::variant<Accessor<int64_t>, Accessor<uint64_t>, Accessor<double>,
                         Accessor<std::string>>;

enum class Rule { kAny, kPositive, kNonNegative, kAtLeastOne, kUnitInterval, kRequired, kCountOrAuto };

struct Field {
  std::string key;                      // "section.field"
  Ref ref;
  Rule rule = Rule::kAny;
  std::vector<std::string> choices = {};  // allowed values of an enumerated string
};

// The key is the stringised member expression, so a YAML key can never drift from its field.
#define CHORUS_FIELD(section, name) \
  #section "." #name, +[](Config& c) -> auto& { return c.section.name; }

// Struct order: to_yaml and config_rows print in this order.
const std::vector<Field>& fields() {
  static const std::vector<Field> kFields = {
      {CHORUS_FIELD(run, dir), Rule::kRequired},
      {CHORUS_FIELD(run, seed)},
      {CHORUS_FIELD(data, path), Rule::kRequired},
      {CHORUS_FIELD(data, train_split), Rule::kRequired},
      {CHORUS_FIELD(data, valid_split)},
      {CHORUS_FIELD(model, kind), Rule::kAny, {"chars", "pianoroll"}},
      {CHORUS_FIELD(model, embedding_size), Rule::kPositive},
      {CHORUS_FIELD(model, hidden_size), Rule::kPositive},
      {CHORUS_FIELD(model, layers), Rule::kPositive},
      {CHORUS_FIELD(model, dropout), Rule::kUnitInterval},
      {CHORUS_FIELD(model, condition), Rule::kAny, {"none", "artist"}},
      {CHORUS_FIELD(model, artist_embedding_size), Rule::kPositive},
      {CHORUS_FIELD(train, batch_size), Rule::kPositive},
      {CHORUS_FIELD(train, seq_len), Rule::kPositive},
      {CHORUS_FIELD(train, steps), Rule::kPositive},
      {CHORUS_FIELD(train, accumulate), Rule::kPositive},
      {CHORUS_FIELD(train, threads), Rule::kNonNegative},
      {CHORUS_FIELD(train, bptt), Rule::kAny, {"truncated", "full"}},
      {CHORUS_FIELD(train, recompute_every), Rule::kCountOrAuto},
      {CHORUS_FIELD(train, max_song_length), Rule::kNonNegative},
      {CHORUS_FIELD(train, patience), Rule::kNonNegative},
      {CHORUS_FIELD(train, max_bad_steps), Rule::kNonNegative},
      {CHORUS_FIELD(train, device), Rule::kAny, {"auto", "cpu", "cuda"}},
      {CHORUS_FIELD(train, precision), Rule::kAny, {"fp32", "bf16"}},
      {CHORUS_FIELD(optim, lr), Rule::kPositive},
      {CHORUS_FIELD(optim, clip), Rule::kNonNegative},
      {CHORUS_FIELD(optim, schedule), Rule::kAny, {"constant", "warmup", "cosine"}},
      {CHORUS_FIELD(optim, warmup_steps), Rule::kNonNegative},
      {CHORUS_FIELD(optim, min_lr), Rule::kNonNegative},
      {CHORUS_FIELD(optim, beta1), Rule::kUnitInterval},
      {CHORUS_FIELD(optim, beta2), Rule::kUnitInterval},
      {CHORUS_FIELD(optim, weight_decay), Rule::kNonNegative},
      {CHORUS_FIELD(eval, every), Rule::kNonNegative},
      {CHORUS_FIELD(eval, max_symbols), Rule::kNonNegative},
      {CHORUS_FIELD(eval, batch_size), Rule::kPositive},
      {CHORUS_FIELD(checkpoint, every), Rule::kNonNegative},
      {CHORUS_FIELD(checkpoint, keep), Rule::kAtLeastOne},
      {CHORUS_FIELD(log, every), Rule::kPositive},
      {CHORUS_FIELD(sample, every), Rule::kNonNegative},
      {CHORUS_FIELD(sample, prime)},
      {CHORUS_FIELD(sample, length), Rule::kPositive},
      {CHORUS_FIELD(sample, temperature), Rule::kPositive},
      {CHORUS_FIELD(sample, method), Rule::kAny, {"multinomial", "gumbel", "argmax"}},
      {CHORUS_FIELD(sample, artist)},
      {CHORUS_FIELD(dist, timeout_s), Rule::kNonNegative},
      {CHORUS_FIELD(dist, backend), Rule::kAny, {"auto", "mpi", "nccl"}},
  };
  return kFields;
}
#undef CHORUS_FIELD

const Field* find_field(const std::string& key) {
  for (const Field& f : fields())
    if (f.key == key) return &f;
  return nullptr;
}

std::string section_of(const std::string& key) { return key.substr(0, key.find('.')); }
std::string name_of(const std::string& key) { return key.substr(key.find('.') + 1); }

bool is_section(const std::string& name) {
  for (const Field& f : fields())
    if (section_of(f.key) == name) return true;
  return false;
}

// Calls fn with the field's value in c, read-only (the accessor never writes).
template <typename Fn>
auto with_value(const Field& f, const Config& c, Fn fn) {
  return std::visit([&](auto get) { return fn(std::as_const(get(const_cast<Config&>(c)))); },
                    f.ref);
}

// ---- Suggestions for misspelt keys ----

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

// " (did you mean 'x'?)" for the closest candidate, or "" when nothing is close: a far-fetched
// suggestion misleads more than none. `score` ranks a candidate (lower is closer).
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

std::string suggest_key(const std::string& key) {
  std::vector<std::string> keys;
  for (const Field& f : fields()) keys.push_back(f.key);
  // The full key catches typos; the bare name catches a key put in the wrong section
  // (train.lr -> optim.lr); a prefix catches a shortened name (model.hidden).
  const std::string name = name_of(key);
  return did_you_mean(keys, std::max<size_t>(2, name.size() / 3), [&](const std::string& k) {
    if (name.size() >= 3 && k.rfind(section_of(key) + "." + name, 0) == 0) return size_t{1};
    return std::min(edit_distance(key, k), edit_distance(name, name_of(k)) + 1);
  });
}

std::string suggest_section(const std::string& section) {
  std::vector<std::string> sections;
  for (const Field& f : fields())
    if (sections.empty() || sections.back() != section_of(f.key)) sections.push_back(section_of(f.key));
  return did_you_mean(sections, std::max<size_t>(2, section.size() / 3),
                      [&](const std::string& s) { return edit_distance(section, s); });
}

// ---- Values: reading from YAML nodes, printing, checking ----

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

// YAML double-quoted string: control bytes escaped, so the text round-trips on one line.
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

// from_chars, but the whole text must be consumed; a leading '+' is allowed as in YAML.
template <typename T>
std::errc parse_number(std::string_view s, T* out) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  if (ec == std::errc() && end != s.data() + s.size()) return std::errc::invalid_argument;
  return ec;
}

// Each read() stores the node's value or returns why it cannot ("expected ..., got ...").
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

// "" when the value obeys the field's rule, else the problem, naming the key.
std::string check(const Field& f, const std::string& v) {
  if (f.rule == Rule::kRequired && v.empty()) return f.key + " is required";
  if (f.rule == Rule::kCountOrAuto && v != "auto" &&
      (v.empty() || v.size() > 9 || v.find_first_not_of("0123456789") != std::string::npos))
    return f.key + ": must be 'auto' or a whole number >= 0, got '" + v + "'";
  if (f.choices.empty() || std::count(f.choices.begin(), f.choices.end(), v)) return "";
  std::string list;
  for (const std::string& c : f.choices) list += (list.empty() ? "" : ", ") + c;
  return f.key + ": must be one of " + list + "; got '" + v + "'";
}

std::string check(const Field&, uint64_t) { return ""; }  // run.seed: any value is a seed

template <typename T>
std::string check(const Field& f, T v) {
  const std::string got = ", got " + format(v);
  switch (f.rule) {
    case Rule::kPositive: return v > 0 ? "" : f.key + ": must be > 0" + got;
    case Rule::kNonNegative: return v >= 0 ? "" : f.key + ": must be >= 0" + got;
    case Rule::kAtLeastOne: return v >= 1 ? "" : f.key + ": must be >= 1" + got;
    case Rule::kUnitInterval: return v >= 0 && v < 1 ? "" : f.key + ": must be in [0, 1)" + got;
    default: return "";
  }
}

// ---- Parsing ----

class Parser {
 public:
  explicit Parser(std::string origin) : origin_(std::move(origin)) {}

  void apply_document(const std::string& text) {
    YAML::Node root;
    try {
      root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
      std::string where = origin_;
      if (!e.mark.is_null())
        where += ": line " + std::to_string(e.mark.line + 1) + ", column " +
                 std::to_string(e.mark.column + 1);
      problem(where, "invalid YAML: " + e.msg);
      unreadable_ = true;
      return;
    }
    if (root.IsNull()) return;  // an empty file: every default
    if (!root.IsMap()) {
      unreadable_ = true;
      return problem(origin_, "expected a mapping of sections, got " + describe(root));
    }
    std::set<std::string> seen;  // yaml-cpp keeps duplicate keys; the second would silently win
    for (const auto& section : root) {
      const std::string name = section.first.IsScalar() ? section.first.Scalar() : "";
      if (!is_section(name)) {
        problem(origin_, "unknown section '" + name + "'" + suggest_section(name));
      } else if (!seen.insert(name).second) {
        problem(origin_, "duplicate section '" + name + "'");
      } else if (section.second.IsMap()) {
        for (const auto& entry : section.second) {
          std::string key = name + "." + (entry.first.IsScalar() ? entry.first.Scalar() : "?");
          if (!seen.insert(key).second) problem(origin_, "duplicate key '" + key + "'");
          else set(origin_, key, entry.second);
        }
      } else if (!section.second.IsNull()) {  // `sample:` with every key commented out is fine
        problem(origin_, "section '" + name + "' must be a mapping of keys, got " +
                             describe(section.second));
      }
    }
  }

  void apply_override(const std::string& text) {
    const size_t eq = text.find('=');
    std::string key = text.substr(0, eq);
    key.erase(0, key.find_first_not_of(" \t"));
    key.erase(key.find_last_not_of(" \t") + 1);
    const size_t dot = key.find('.');
    if (eq == std::string::npos || dot == std::string::npos || dot == 0 || dot + 1 == key.size())
      return problem("--set '" + text + "'", "expected section.key=value");
    YAML::Node value;
    try {
      value = YAML::Load(text.substr(eq + 1));
    } catch (const YAML::Exception& e) {
      return problem("--set", key + ": cannot read '" + text.substr(eq + 1) + "' as a YAML value (" +
                                  e.msg + ")");
    }
    set("--set", key, value);
  }

  void validate() {
    if (unreadable_) return;  // the defaults standing in for an unreadable file prove nothing
    for (const Field& f : fields()) {
      if (mistyped_.count(f.key)) continue;  // already reported
      std::string what = with_value(f, config_, [&](const auto& v) { return check(f, v); });
      if (what.empty()) continue;
      auto from = origin_of_.find(f.key);
      problem(from == origin_of_.end() ? origin_ : from->second, what);
    }
  }

  Config result() const {
    if (problems_.empty()) return config_;
    std::string message;
    for (const std::string& p : problems_) message += (message.empty() ? "" : "\n") + p;
    throw InputError(message);
  }

 private:
  void problem(const std::string& where, const std::string& what) {
    problems_.push_back(where + ": " + what);
  }

  void set(const std::string& where, const std::string& key, const YAML::Node& value) {
    const Field* f = find_field(key);
    if (f == nullptr) return problem(where, "unknown key '" + key + "'" + suggest_key(key));
    std::string error = std::visit([&](auto get) { return read(value, &get(config_)); }, f->ref);
    origin_of_[key] = where;
    if (error.empty()) {
      mistyped_.erase(key);  // a later --set may repair a bad file value; it still was reported
    } else {
      mistyped_.insert(key);
      problem(where, key + ": " + error);
    }
  }

  std::string origin_;
  Config config_;
  std::vector<std::string> problems_;
  std::map<std::string, std::string> origin_of_;  // key -> file or "--set" that set it last
  std::set<std::string> mistyped_;
  bool unreadable_ = false;
};

}  // namespace

Config parse_config(const std::string& yaml_text, const std::string& origin,
                    const std::vector<std::string>& overrides) {
  Parser parser(origin);
  parser.apply_document(yaml_text);
  for (const std::string& o : overrides) parser.apply_override(o);
  parser.validate();
  return parser.result();
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw InputError(path + ": config file not found");
  if (std::filesystem::is_directory(path, ec))
    throw InputError(path + ": is a directory, not a config file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot open config file: " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw InputError(path + ": cannot read config file");
  return parse_config(text.str(), path, overrides);
}

std::string to_yaml(const Config& config) {
  std::string out, section;
  for (const Field& f : fields()) {
    if (section_of(f.key) != section) out += (section = section_of(f.key)) + ":\n";
    out += "  " + name_of(f.key) + ": ";
    out += with_value(f, config, [](const auto& v) {
      if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>) return quote(v);
      else return format(v);
    });
    out += "\n";
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> config_rows(const Config& config) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const Field& f : fields())
    rows.emplace_back(f.key, with_value(f, config, [](const auto& v) { return format(v); }));
  return rows;
}

bool operator==(const Config& a, const Config& b) {
  for (const Field& f : fields()) {
    bool same = std::visit(
        [&](auto get) { return get(const_cast<Config&>(a)) == get(const_cast<Config&>(b)); },
        f.ref);
    if (!same) return false;
  }
  return true;
}

}  // namespace chorus
