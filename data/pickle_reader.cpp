// A pickle reader for data only: a small stack machine over the opcodes that build dicts, lists,
// tuples, numbers and strings, then a shape check into piano-roll songs.
// Invariants: no opcode that imports, builds or calls anything is executed (each is an
// InputError naming it and its offset); every read is bounds-checked; memory and work are
// bounded by the file's size, also when the memo shares one list many times.
#include "data/pickle_reader.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <map>
#include <unordered_map>
#include <sys/stat.h>
#include <vector>

#include "data/errors.h"
#include "data/files.h"

namespace chorus {
namespace {

enum class Kind : uint8_t { kNone, kBool, kInt, kFloat, kString, kList, kTuple, kDict, kMark };

// 16 bytes: the published files hold a few million numbers.
struct Value {
  Kind kind = Kind::kNone;
  int64_t i = 0;  // kInt, kBool; the index of a string or a container; kFloat: the double's bits
  double f() const {
    double d;
    std::memcpy(&d, &i, sizeof d);
    return d;
  }
  static Value real(double d) {
    Value v{Kind::kFloat};
    std::memcpy(&v.i, &d, sizeof d);
    return v;
  }
};

struct Container {
  Kind kind;
  std::vector<Value> items;  // a dict's are key, value, key, value, ...
};

// Opcodes a data pickle never needs; the names make the refusal readable.
const std::map<uint8_t, const char*>& refused_opcodes() {
  static const std::map<uint8_t, const char*> names = {
      {'c', "GLOBAL"},        {'R', "REDUCE"},    {'b', "BUILD"},      {'i', "INST"},
      {'o', "OBJ"},           {0x81, "NEWOBJ"},   {0x92, "NEWOBJ_EX"}, {0x93, "STACK_GLOBAL"},
      {'P', "PERSID"},        {'Q', "BINPERSID"}, {0x82, "EXT1"},      {0x83, "EXT2"},
      {0x84, "EXT4"},         {0x8f, "EMPTY_SET"}, {0x90, "ADDITEMS"}, {0x91, "FROZENSET"},
      {0x96, "BYTEARRAY8"},   {0x97, "NEXT_BUFFER"}, {0x98, "READONLY_BUFFER"},
      {'0', "POP"},           {'1', "POP_MARK"},  {'2', "DUP"},        {0x8e, "BINBYTES8"}};
  return names;
}

class Machine {
 public:
  Machine(const uint8_t* data, size_t size, const std::string& name) : p_(data), n_(size), name_(name) {}

  Value run();
  const Container& container(const Value& v) const { return containers_[static_cast<size_t>(v.i)]; }
  const std::string& text(const Value& v) const { return strings_[static_cast<size_t>(v.i)]; }

 private:
  [[noreturn]] void fail(const std::string& reason) const {
    throw InputError(name_ + ": byte " + std::to_string(op_at_) + ": " + reason);
  }
  const uint8_t* take(size_t count) {
    if (n_ - pos_ < count) {
      fail("truncated pickle (opcode 0x" + hex(op_) + " needs " + std::to_string(count) +
           " more bytes, " + std::to_string(n_ - pos_) + " left)");
    }
    const uint8_t* at = p_ + pos_;
    pos_ += count;
    return at;
  }
  uint64_t little(size_t count) {
    const uint8_t* b = take(count);
    uint64_t v = 0;
    for (size_t k = 0; k < count; ++k) v |= static_cast<uint64_t>(b[k]) << (8 * k);
    return v;
  }
  std::string line() {  // the text argument of a protocol-0 opcode, up to its newline
    const void* nl = std::memchr(p_ + pos_, '\n', n_ - pos_);
    if (!nl) fail("truncated pickle (opcode '" + std::string(1, static_cast<char>(op_)) + "' lacks its newline)");
    const size_t end = static_cast<size_t>(static_cast<const uint8_t*>(nl) - p_);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), end - pos_);
    pos_ = end + 1;
    return s;
  }
  static std::string hex(uint8_t b) {
    static const char* digits = "0123456789abcdef";
    return std::string{digits[b >> 4], digits[b & 15]};
  }

  void push(Value v) { stack_.push_back(v); }
  Value push_container(Kind kind, std::vector<Value> items = {}) {
    containers_.push_back(Container{kind, std::move(items)});
    Value v{kind, static_cast<int64_t>(containers_.size() - 1)};
    push(v);
    return v;
  }
  void push_string(std::string s) {
    strings_.push_back(std::move(s));
    push(Value{Kind::kString, static_cast<int64_t>(strings_.size() - 1)});
  }
  Value pop() {
    if (stack_.empty()) fail("opcode 0x" + hex(op_) + " on an empty stack");
    const Value v = stack_.back();
    if (v.kind == Kind::kMark) fail("opcode 0x" + hex(op_) + " found a MARK where it needs a value");
    stack_.pop_back();
    return v;
  }
  std::vector<Value> pop_to_mark() {
    size_t k = stack_.size();
    while (k > 0 && stack_[k - 1].kind != Kind::kMark) --k;
    if (k == 0) fail("opcode 0x" + hex(op_) + " without a MARK before it");
    std::vector<Value> items(stack_.begin() + static_cast<std::ptrdiff_t>(k), stack_.end());
    stack_.resize(k - 1);
    return items;
  }
  Container& top(Kind want, const char* what) {
    if (stack_.empty() || stack_.back().kind != want) fail(std::string(what) + " on something that is not a " +
                                                          (want == Kind::kList ? "list" : "dict"));
    return containers_[static_cast<size_t>(stack_.back().i)];
  }
  void add_items(Container& dict, std::vector<Value> items) {
    if (items.size() % 2) fail("SETITEMS with an odd number of keys and values");
    dict.items.insert(dict.items.end(), items.begin(), items.end());
  }
  void push_int_text(const std::string& s, bool long_form);
  void memo_put(uint64_t index) {
    if (stack_.empty() || stack_.back().kind == Kind::kMark) fail("PUT with nothing to remember");
    memo_[index] = stack_.back();
  }
  void memo_get(uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) fail("GET of memo entry " + std::to_string(index) + ", which was never PUT");
    push(it->second);
  }
  uint64_t decimal(const std::string& s) {
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos) {
      fail("\"" + s + "\" is not a memo index");
    }
    return std::stoull(s);
  }

  const uint8_t* p_;
  size_t n_, pos_ = 0, op_at_ = 0;
  uint8_t op_ = 0;
  const std::string& name_;
  std::vector<Value> stack_;
  std::vector<Container> containers_;
  std::vector<std::string> strings_;
  std::unordered_map<uint64_t, Value> memo_;
};

void Machine::push_int_text(const std::string& text, bool long_form) {
  std::string s = text;
  if (long_form && !s.empty() && s.back() == 'L') s.pop_back();
  if (!long_form && (s == "00" || s == "01")) return push(Value{Kind::kBool, s == "01"});
  const size_t digits = s.find_first_not_of("+-") == 1 ? 1 : 0;
  if (s.size() <= digits || s.size() > 19 || s.find_first_not_of("0123456789", digits) != std::string::npos) {
    fail("\"" + text + "\" is not an integer this reader takes (at most 18 digits)");
  }
  push(Value{Kind::kInt, std::stoll(s)});
}

Value Machine::run() {
  while (pos_ < n_) {
    op_at_ = pos_;
    op_ = p_[pos_++];
    switch (op_) {
      case 0x80: {  // PROTO
        const uint64_t protocol = little(1);
        if (protocol > 5) fail("pickle protocol " + std::to_string(protocol) + " is newer than 5");
        break;
      }
      case 0x95: little(8); break;  // FRAME: a length hint
      case '.': {                   // STOP
        const Value v = pop();
        return v;
      }
      case '(': push(Value{Kind::kMark}); break;
      case ')': push_container(Kind::kTuple); break;
      case ']': push_container(Kind::kList); break;
      case '}': push_container(Kind::kDict); break;
      case 'l': push_container(Kind::kList, pop_to_mark()); break;
      case 't': push_container(Kind::kTuple, pop_to_mark()); break;
      case 'd': {
        std::vector<Value> items = pop_to_mark();
        const Value d = push_container(Kind::kDict);
        add_items(containers_[static_cast<size_t>(d.i)], std::move(items));
        break;
      }
      case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
        std::vector<Value> items(static_cast<size_t>(op_ - 0x84));
        for (size_t k = items.size(); k-- > 0;) items[k] = pop();
        push_container(Kind::kTuple, std::move(items));
        break;
      }
      case 'a': {  // APPEND
        const Value v = pop();
        top(Kind::kList, "APPEND").items.push_back(v);
        break;
      }
      case 'e': {  // APPENDS
        std::vector<Value> items = pop_to_mark();
        Container& list = top(Kind::kList, "APPENDS");
        list.items.insert(list.items.end(), items.begin(), items.end());
        break;
      }
      case 's': {  // SETITEM
        const Value value = pop(), key = pop();
        add_items(top(Kind::kDict, "SETITEM"), {key, value});
        break;
      }
      case 'u': {  // SETITEMS
        std::vector<Value> items = pop_to_mark();
        add_items(top(Kind::kDict, "SETITEMS"), std::move(items));
        break;
      }
      case 'N': push(Value{Kind::kNone}); break;
      case 0x88: push(Value{Kind::kBool, 1}); break;  // NEWTRUE
      case 0x89: push(Value{Kind::kBool}); break;  // NEWFALSE
      case 'I': push_int_text(line(), false); break;
      case 'L': push_int_text(line(), true); break;
      case 'J': push(Value{Kind::kInt, static_cast<int32_t>(little(4))}); break;  // BININT
      case 'K': push(Value{Kind::kInt, static_cast<int64_t>(little(1))}); break;  // BININT1
      case 'M': push(Value{Kind::kInt, static_cast<int64_t>(little(2))}); break;  // BININT2
      case 0x8a: case 0x8b: {  // LONG1, LONG4: little-endian two's complement
        const uint64_t count = little(op_ == 0x8a ? 1 : 4);
        if (count > 8) fail("an integer of " + std::to_string(count) + " bytes (this reader takes 8 at most)");
        uint64_t v = little(static_cast<size_t>(count));
        if (count > 0 && count < 8 && (v >> (8 * count - 1)) & 1) v |= ~uint64_t{0} << (8 * count);
        push(Value{Kind::kInt, static_cast<int64_t>(v)});
        break;
      }
      case 'F': {
        const std::string s = line();
        char* end = nullptr;
        const double d = std::strtod(s.c_str(), &end);
        if (s.empty() || end != s.c_str() + s.size()) fail("\"" + s + "\" is not a float");
        push(Value::real(d));
        break;
      }
      case 'G': {  // BINFLOAT: big-endian IEEE 754
        const uint8_t* b = take(8);
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = bits << 8 | b[k];
        double d;
        std::memcpy(&d, &bits, sizeof d);
        push(Value::real(d));
        break;
      }
      case 'S': {  // STRING: a quoted repr; only the keys use it, so quotes are stripped, no escapes
        const std::string s = line();
        if (s.size() < 2 || (s[0] != '\'' && s[0] != '"') || s.back() != s[0]) fail("STRING argument is not quoted");
        push_string(s.substr(1, s.size() - 2));
        break;
      }
      case 'V': push_string(line()); break;  // UNICODE (raw-unicode-escape; keys are ASCII)
      case 'T': case 'X': case 'B': {        // BINSTRING, BINUNICODE, BINBYTES: 4-byte length
        const uint64_t count = little(4);
        const uint8_t* b = take(static_cast<size_t>(count));
        push_string(std::string(reinterpret_cast<const char*>(b), static_cast<size_t>(count)));
        break;
      }
      case 'U': case 0x8c: case 'C': {  // SHORT_BINSTRING, SHORT_BINUNICODE, SHORT_BINBYTES
        const uint64_t count = little(1);
        const uint8_t* b = take(static_cast<size_t>(count));
        push_string(std::string(reinterpret_cast<const char*>(b), static_cast<size_t>(count)));
        break;
      }
      case 0x8d: {  // BINUNICODE8
        const uint64_t count = little(8);
        if (count > n_) fail("a string longer than the file");
        const uint8_t* b = take(static_cast<size_t>(count));
        push_string(std::string(reinterpret_cast<const char*>(b), static_cast<size_t>(count)));
        break;
      }
      case 'p': memo_put(decimal(line())); break;
      case 'q': memo_put(little(1)); break;
      case 'r': memo_put(little(4)); break;
      case 0x94: memo_put(memo_.size()); break;  // MEMOIZE
      case 'g': memo_get(decimal(line())); break;
      case 'h': memo_get(little(1)); break;
      case 'j': memo_get(little(4)); break;
      default: {
        const auto it = refused_opcodes().find(op_);
        if (it != refused_opcodes().end()) {
          fail(std::string("pickle opcode ") + it->second + " (0x" + hex(op_) +
               ") refused: this reader takes only dicts, lists, tuples, numbers and strings, and "
               "never imports, builds or calls anything a pickle names");
        }
        fail("0x" + hex(op_) + " is not a pickle opcode (not a pickle, or a corrupt one)");
      }
    }
  }
  op_at_ = n_;
  fail("truncated pickle (no STOP opcode)");
}

// The data's shape: {"train"|"valid"|"test": [[[note, ...], ...], ...]}.
class Shape {
 public:
  Shape(const Machine& m, const std::string& name, size_t file_bytes)
      : m_(m), name_(name), budget_(16 * static_cast<int64_t>(file_bytes) + (int64_t{1} << 20)) {}

  void songs(const Value& root, const SplitSongSink& sink) {
    if (root.kind != Kind::kDict) throw InputError(name_ + ": the pickle holds no dict of splits");
    std::map<std::string, Value> splits;
    const auto& items = m_.container(root).items;
    for (size_t k = 0; k + 1 < items.size(); k += 2) {
      const std::string key = items[k].kind == Kind::kString ? m_.text(items[k]) : "";
      if (key != "train" && key != "valid" && key != "test") {
        throw InputError(name_ + ": the dict has a key " + (key.empty() ? "that is not a string" : "\"" + key + "\"") +
                         "; expected train, valid and test");
      }
      splits[key] = items[k + 1];  // a repeated key: the last wins, as in Python
    }
    if (splits.empty()) throw InputError(name_ + ": the dict holds none of train, valid, test");
    for (const char* split : {"train", "valid", "test"}) {
      const auto it = splits.find(split);
      if (it == splits.end()) continue;
      const std::vector<Value>& songs = sequence(it->second, split);
      for (size_t s = 0; s < songs.size(); ++s) {
        const std::string where = std::string(split) + "[" + std::to_string(s) + "]";
        const std::vector<Value>& frames = sequence(songs[s], where);
        if (frames.empty()) throw InputError(name_ + ": " + where + ": an empty song");
        std::vector<Frame> song(frames.size());
        for (size_t t = 0; t < frames.size(); ++t) {
          const std::string at = where + "[" + std::to_string(t) + "]";
          for (const Value& note : sequence(frames[t], at)) song[t].set(static_cast<size_t>(key_of(note, at)));
        }
        sink(split, std::move(song));
      }
    }
  }

 private:
  const std::vector<Value>& sequence(const Value& v, const std::string& where) {
    if (v.kind != Kind::kList && v.kind != Kind::kTuple) {
      throw InputError(name_ + ": " + where + ": expected a list, found " + kind_name(v.kind));
    }
    const std::vector<Value>& items = m_.container(v).items;
    budget_ -= static_cast<int64_t>(items.size()) + 1;
    if (budget_ < 0) {
      throw InputError(name_ + ": holds more frames and notes than a file of its size can "
                       "(one list shared through the memo many times?); refused as a guard");
    }
    return items;
  }
  int key_of(const Value& note, const std::string& where) const {
    double value = 0;
    if (note.kind == Kind::kInt) {
      value = static_cast<double>(note.i);
    } else if (note.kind == Kind::kFloat && std::floor(note.f()) == note.f()) {
      value = note.f();  // an integral float, as some copies of the data hold
    } else {
      throw InputError(name_ + ": " + where + ": expected MIDI note numbers, found " + kind_name(note.kind));
    }
    if (!(value >= kLowestNote && value <= kHighestNote)) {
      char text[32];  // the note as the file holds it (a float may be far outside any integer type)
      if (note.kind == Kind::kInt) {
        std::snprintf(text, sizeof text, "%lld", static_cast<long long>(note.i));
      } else {
        std::snprintf(text, sizeof text, "%.17g", value);
      }
      throw InputError(name_ + ": " + where + ": note " + text +
                       " is outside " + std::to_string(kLowestNote) + ".." + std::to_string(kHighestNote) +
                       " (the 88 piano keys)");
    }
    return static_cast<int>(value) - kLowestNote;
  }
  static std::string kind_name(Kind k) {
    switch (k) {
      case Kind::kNone: return "None";
      case Kind::kBool: return "a bool";
      case Kind::kInt: return "an integer";
      case Kind::kFloat: return "a float";
      case Kind::kString: return "a string";
      case Kind::kList: return "a list";
      case Kind::kTuple: return "a tuple";
      case Kind::kDict: return "a dict";
      default: return "a MARK";
    }
  }

  const Machine& m_;
  const std::string& name_;
  int64_t budget_;  // frames and notes still allowed
};

}  // namespace

void parse_pianoroll_pickle(const uint8_t* data, size_t size, const std::string& name,
                            const SplitSongSink& sink) {
  Machine machine(data, size, name);
  const Value root = machine.run();
  Shape(machine, name, size).songs(root, sink);
}

void read_pianoroll_pickle(const std::string& path, const SplitSongSink& sink) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) throw InputError(path + ": --pickle: no such file");
  if (static_cast<uint64_t>(st.st_size) > kMaxPickleBytes) {
    throw InputError(path + ": " + std::to_string(st.st_size) + " bytes, over the " +
                     std::to_string(kMaxPickleBytes >> 20) + " MiB this reader takes");
  }
  const std::string bytes = read_file(path);
  parse_pianoroll_pickle(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path, sink);
}

}  // namespace chorus
