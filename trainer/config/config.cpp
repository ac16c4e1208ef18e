// The experiment config: YAML text + "--set section.key=value" overrides -> validated Config,
// and back (to_yaml, config_rows). Invariant: every field is listed once, in kFields, with its key
// taken from the member's own spelling and whether a resume may change it; parse, to_yaml, rows,
// == and the resume check all walk that one table, so they cannot disagree and
// parse_config(to_yaml(c)) == c. Choices become enums when read, nowhere else. Every problem is collected, then
// reported at once in one InputError (one line each, naming the file or --set and the key).
#include "trainer/config/config.h"

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
#include <functional>
#include <type_traits>

#include "data/errors.h"
#include "trainer/config/yaml_values.h"

namespace chorus {
namespace {

using namespace config_values;

enum class Rule { kAny, kPositive, kNonNegative, kAtLeastOne, kUnitInterval, kRequired };

// May a resume change it? (docs/design.md "Resume": model shape, batch, window and data file may not.)
enum class OnResume { kMayChange, kFixed };

// One key of the table, its value type erased: each operation reads or writes that one member.
struct Field {
  std::string key;                                               // "section.field"
  OnResume on_resume = OnResume::kMayChange;
  std::function<std::string(Config&, const YAML::Node&)> read;   // "" or why not
  std::function<std::string(const Config&)> text;                // for rows and messages
  std::function<std::string(const Config&)> yaml;                // for to_yaml
  std::function<std::string(const Config&)> check;               // "" or the problem, naming the key
  std::function<bool(const Config&, const Config&)> equal;
};

template <typename T>
Field make_field(std::string key, T& (*get)(Config&), Rule rule = Rule::kAny,
                 OnResume on_resume = OnResume::kMayChange);

// The key is the stringised member expression, so a YAML key can never drift from its field.
#define CHORUS_FIELD(section, name) \
  #section "." #name, +[](Config& c) -> auto& { return c.section.name; }

// Struct order: to_yaml and config_rows print in this order.
const std::vector<Field>& fields() {
  constexpr OnResume kFixed = OnResume::kFixed;
  static const std::vector<Field> kFields = {
      make_field(CHORUS_FIELD(run, dir), Rule::kRequired),
      make_field(CHORUS_FIELD(run, seed)),
      make_field(CHORUS_FIELD(data, path), Rule::kRequired, kFixed),
      make_field(CHORUS_FIELD(data, train_split), Rule::kRequired),
      make_field(CHORUS_FIELD(data, valid_split)),
      make_field(CHORUS_FIELD(model, kind), Rule::kAny, kFixed),
      make_field(CHORUS_FIELD(model, embedding_size), Rule::kPositive, kFixed),
      make_field(CHORUS_FIELD(model, hidden_size), Rule::kPositive, kFixed),
      make_field(CHORUS_FIELD(model, layers), Rule::kPositive, kFixed),
      make_field(CHORUS_FIELD(model, recurrence), Rule::kAny, kFixed),
      make_field(CHORUS_FIELD(model, lstm_impl)),
      make_field(CHORUS_FIELD(model, head), Rule::kAny, kFixed),
      make_field(CHORUS_FIELD(model, nade_hidden), Rule::kNonNegative, kFixed),
      make_field(CHORUS_FIELD(model, dropout), Rule::kUnitInterval),
      make_field(CHORUS_FIELD(model, input_dropout), Rule::kUnitInterval),
      make_field(CHORUS_FIELD(model, condition), Rule::kAny, kFixed),
      make_field(CHORUS_FIELD(model, artist_embedding_size), Rule::kPositive, kFixed),
      make_field(CHORUS_FIELD(train, batch_size), Rule::kPositive, kFixed),
      make_field(CHORUS_FIELD(train, seq_len), Rule::kPositive, kFixed),
      make_field(CHORUS_FIELD(train, steps), Rule::kPositive),
      make_field(CHORUS_FIELD(train, accumulate), Rule::kPositive),
      make_field(CHORUS_FIELD(train, threads), Rule::kNonNegative),
      make_field(CHORUS_FIELD(train, bptt)),
      make_field(CHORUS_FIELD(train, recompute_every)),
      make_field(CHORUS_FIELD(train, max_song_length), Rule::kNonNegative),
      make_field(CHORUS_FIELD(train, patience), Rule::kNonNegative),
      make_field(CHORUS_FIELD(train, transpose), Rule::kNonNegative),
      make_field(CHORUS_FIELD(train, max_bad_steps), Rule::kNonNegative),
      make_field(CHORUS_FIELD(train, device)),
      make_field(CHORUS_FIELD(train, precision)),
      make_field(CHORUS_FIELD(optim, lr), Rule::kPositive),
      make_field(CHORUS_FIELD(optim, clip), Rule::kNonNegative),
      make_field(CHORUS_FIELD(optim, schedule)),
      make_field(CHORUS_FIELD(optim, warmup_steps), Rule::kNonNegative),
      make_field(CHORUS_FIELD(optim, min_lr), Rule::kNonNegative),
      make_field(CHORUS_FIELD(optim, beta1), Rule::kUnitInterval),
      make_field(CHORUS_FIELD(optim, beta2), Rule::kUnitInterval),
      make_field(CHORUS_FIELD(optim, weight_decay), Rule::kNonNegative),
      make_field(CHORUS_FIELD(eval, every), Rule::kNonNegative),
      make_field(CHORUS_FIELD(eval, max_symbols), Rule::kNonNegative),
      make_field(CHORUS_FIELD(eval, batch_size), Rule::kPositive),
      make_field(CHORUS_FIELD(checkpoint, every), Rule::kNonNegative),
      make_field(CHORUS_FIELD(checkpoint, keep), Rule::kAtLeastOne),
      make_field(CHORUS_FIELD(log, every), Rule::kPositive),
      make_field(CHORUS_FIELD(sample, every), Rule::kNonNegative),
      make_field(CHORUS_FIELD(sample, prime)),
      make_field(CHORUS_FIELD(sample, length), Rule::kPositive),
      make_field(CHORUS_FIELD(sample, temperature), Rule::kPositive),
      make_field(CHORUS_FIELD(sample, method)),
      make_field(CHORUS_FIELD(sample, artist)),
      make_field(CHORUS_FIELD(dist, timeout_s), Rule::kNonNegative),
      make_field(CHORUS_FIELD(dist, slow_timeout_s), Rule::kNonNegative),
      make_field(CHORUS_FIELD(dist, backend)),
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

// A value as YAML: strings (and the names of choices) double-quoted, numbers as they print.
template <typename T>
std::string yaml_value(const T& v) {
  if constexpr (std::is_arithmetic_v<T>) return format(v);
  else return quote(format(v));
}

// "" when the value obeys the rule, else the problem, naming the key.
std::string check(const std::string& key, Rule rule, const std::string& v) {
  return rule == Rule::kRequired && v.empty() ? key + " is required" : "";
}
std::string check(const std::string&, Rule, uint64_t) { return ""; }  // run.seed: any value is a seed

template <typename T>
std::string check(const std::string& key, Rule rule, const T& v) {
  if constexpr (!std::is_arithmetic_v<T>) {
    return "";  // choices and recompute_every are checked when read
  } else {
    const std::string got = ", got " + format(v);
    switch (rule) {
      case Rule::kPositive: return v > 0 ? "" : key + ": must be > 0" + got;
      case Rule::kNonNegative: return v >= 0 ? "" : key + ": must be >= 0" + got;
      case Rule::kAtLeastOne: return v >= 1 ? "" : key + ": must be >= 1" + got;
      case Rule::kUnitInterval: return v >= 0 && v < 1 ? "" : key + ": must be in [0, 1)" + got;
      default: return "";
    }
  }
}

template <typename T>
Field make_field(std::string key, T& (*get)(Config&), Rule rule, OnResume on_resume) {
  // The accessor only reads when handed a const Config (it is the table's one way in).
  auto at = [get](const Config& c) -> const T& { return get(const_cast<Config&>(c)); };
  Field f;
  f.key = key;
  f.on_resume = on_resume;
  f.read = [get](Config& c, const YAML::Node& n) { return read(n, &get(c)); };
  f.text = [at](const Config& c) { return format(at(c)); };
  f.yaml = [at](const Config& c) { return yaml_value(at(c)); };
  f.check = [at, key, rule](const Config& c) { return check(key, rule, at(c)); };
  f.equal = [at](const Config& a, const Config& b) { return at(a) == at(b); };
  return f;
}

// ---- Rules between keys ----

// (key, problem) for every combination of values that cannot run.
std::vector<std::pair<std::string, std::string>> combination_problems(const Config& c) {
  std::vector<std::pair<std::string, std::string>> problems;
  if (c.model.lstm_impl == LstmImpl::kFused && c.model.recurrence != RecurrenceKind::kLstm)
    problems.emplace_back("model.lstm_impl",
                          "model.lstm_impl: 'fused' is an LSTM implementation, but "
                          "model.recurrence is '" + name_of(c.model.recurrence) + "'");
  if (c.model.lstm_impl == LstmImpl::kFused && c.train.precision != Precision::kFp32)
    problems.emplace_back("model.lstm_impl",
                          "model.lstm_impl: 'fused' runs in fp32; train.precision is '" +
                              name_of(c.train.precision) + "' (use lstm_impl torch or auto)");
  if (c.model.lstm_impl == LstmImpl::kFused && c.train.device == DeviceChoice::kCuda)
    problems.emplace_back("model.lstm_impl",
                          "model.lstm_impl: 'fused' is the CPU layer; train.device is 'cuda' "
                          "(auto picks cuDNN's LSTM there)");
  if (c.model.nade_hidden != 0 && c.model.head != HeadKind::kNade)
    problems.emplace_back("model.nade_hidden",
                          "model.nade_hidden: it sizes the NADE head, but model.head is '" +
                              name_of(c.model.head) + "' (set model.head: nade, or remove it)");
  return problems;
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
      std::string what = f.check(config_);
      if (what.empty()) continue;
      auto from = origin_of_.find(f.key);
      problem(from == origin_of_.end() ? origin_ : from->second, what);
    }
    // Rules between keys, named by the key that would have to change.
    for (const auto& [key, what] : combination_problems(config_)) {
      if (mistyped_.count(key)) continue;
      auto from = origin_of_.find(key);
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
    std::string error = f->read(config_, value);
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
    out += "  " + name_of(f.key) + ": " + f.yaml(config) + "\n";
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> config_rows(const Config& config) {
  std::vector<std::pair<std::string, std::string>> rows;
  for (const Field& f : fields()) rows.emplace_back(f.key, f.text(config));
  return rows;
}

std::vector<std::string> keys_fixed_on_resume_that_differ(const Config& saved,
                                                           const Config& now) {
  std::vector<std::string> keys;
  for (const Field& f : fields())
    if (f.on_resume == OnResume::kFixed && !f.equal(saved, now)) keys.push_back(f.key);
  return keys;
}

bool operator==(const Config& a, const Config& b) {
  for (const Field& f : fields())
    if (!f.equal(a, b)) return false;
  return true;
}

}  // namespace chorus
