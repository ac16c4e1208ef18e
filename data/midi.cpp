// Standard MIDI file reader (format 0/1 -> piano-roll frames on a grid) and writer (format 0).
// Invariants: every byte access is bounds-checked, so a truncated or hostile file is an InputError
// naming the file and the reason, never a crash or an unbounded allocation (fuzzed by
// tests/fuzz/midi_fuzz.cpp); a key sounds in frame f exactly when one of its notes covers f.
#include "data/midi.h"

#include <algorithm>
#include <cmath>
#include <sstream>
#include <stdexcept>

#include "data/errors.h"
#include "data/files.h"

namespace chorus {
namespace {

// Longest song we build (1 Mi frames: 16 MiB as bitsets, 87 hours at 0.3 s per frame): a bound on
// the memory and time a hostile file's delta times can demand.
constexpr double kMaxFrames = 1048576.0;
constexpr uint32_t kDefaultTempo = 500000;  // microseconds per quarter note (120 bpm)
constexpr int kDrumChannel = 9;             // "channel 10" counted from 1

struct Note {
  int pitch;
  int64_t on, off;  // ticks
};
struct Tempo {
  int64_t tick;
  uint32_t us_per_quarter;
};

// Bounds-checked reading of one chunk; errors carry the absolute byte offset.
class Cursor {
 public:
  Cursor(const uint8_t* data, size_t begin, size_t end, const std::string& name)
      : data_(data), pos_(begin), end_(end), name_(name) {}
  bool done() const { return pos_ >= end_; }
  size_t left() const { return end_ - pos_; }
  size_t offset() const { return pos_; }
  [[noreturn]] void fail(const std::string& reason) const {
    throw InputError(name_ + ": byte " + std::to_string(pos_) + ": " + reason);
  }
  uint8_t peek(const char* what) const {
    if (done()) fail(std::string("truncated track: the chunk ends inside ") + what);
    return data_[pos_];
  }
  uint8_t byte(const char* what) {
    const uint8_t b = peek(what);
    ++pos_;
    return b;
  }
  uint32_t vlq(const char* what) {  // variable-length quantity, at most 4 bytes (28 bits)
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const uint8_t b = byte(what);
      v = (v << 7) | (b & 0x7Fu);
      if (!(b & 0x80u)) return v;
    }
    fail(std::string(what) + ": variable-length quantity longer than 4 bytes");
  }
  void skip(uint32_t n, const char* what) {
    if (n > left()) fail(std::string("truncated ") + what + ": " + std::to_string(n) + " bytes announced, " +
                         std::to_string(left()) + " left in the chunk");
    pos_ += n;
  }
  const uint8_t* here() const { return data_ + pos_; }

 private:
  const uint8_t* data_;
  size_t pos_, end_;
  const std::string& name_;
};

[[noreturn]] void fail_file(const std::string& name, const std::string& reason) {
  throw InputError(name + ": " + reason);
}

uint32_t be(const uint8_t* p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

std::string hex(unsigned v) {
  std::ostringstream s;
  s << "0x" << std::hex << std::uppercase << v;
  return s.str();
}

// One MTrk chunk: appends its notes and tempo events; returns the tick of its end.
int64_t parse_track(Cursor c, std::vector<Note>* notes, std::vector<Tempo>* tempos, MidiStats* stats,
                    std::vector<std::vector<int64_t>>* open) {
  int64_t tick = 0;
  int running = 0;  // kept across meta and sysex events (lenient, as most readers are)
  for (auto& v : *open) v.clear();
  while (!c.done()) {
    tick += c.vlq("a delta time");
    const uint8_t first = c.peek("an event");
    int status = running;
    if (first & 0x80u) {
      status = first;
      c.byte("an event");
    } else if (running == 0) {
      c.fail("running status without a previous status byte (data byte " + hex(first) + ")");
    }
    if (status == 0xFF) {
      const uint8_t type = c.byte("a meta event");
      const uint32_t len = c.vlq("a meta event length");
      if (len > c.left()) c.skip(len, "meta event");
      if (type == 0x51) {
        if (len != 3) c.fail("Set Tempo meta event of length " + std::to_string(len) + " (3 expected)");
        const uint32_t us = be(c.here(), 3);
        if (us == 0) c.fail("Set Tempo of 0 microseconds per quarter note");
        tempos->push_back({tick, us});
        ++stats->tempo_changes;
      }
      c.skip(len, "meta event");
      if (type == 0x2F) break;  // End of Track; bytes after it are ignored
      continue;
    }
    if (status == 0xF0 || status == 0xF7) {
      c.skip(c.vlq("a sysex length"), "sysex event");
      continue;
    }
    if (status > 0xF0) c.fail("status " + hex(status) + " (a system message) is not allowed in a MIDI file");
    running = status;
    const int kind = status & 0xF0, channel = status & 0x0F;
    const int n_data = (kind == 0xC0 || kind == 0xD0) ? 1 : 2;
    int d[2] = {0, 0};
    for (int i = 0; i < n_data; ++i) {
      d[i] = c.byte("a channel message");
      if (d[i] & 0x80) c.fail("data byte " + hex(d[i]) + " after status " + hex(status));
    }
    const bool note_on = kind == 0x90 && d[1] > 0;
    const bool note_off = kind == 0x80 || (kind == 0x90 && d[1] == 0);
    if (!note_on && !note_off) continue;
    if (channel == kDrumChannel || !is_piano_note(d[0])) {
      if (note_on) ++(channel == kDrumChannel ? stats->dropped_drums : stats->dropped_out_of_range);
      continue;
    }
    std::vector<int64_t>& starts = (*open)[channel * 128 + d[0]];
    if (note_on) {
      starts.push_back(tick);
      continue;
    }
    // A note-off ends every open note of its channel and pitch that began earlier; notes begun at
    // this very tick are the next note (writers put its note-on first) unless nothing began
    // earlier, in which case it is a zero-length note (it still gets one frame).
    const bool any_earlier = std::any_of(starts.begin(), starts.end(), [&](int64_t s) { return s < tick; });
    std::vector<int64_t> keep;
    for (int64_t s : starts) {
      if (any_earlier && s == tick) {
        keep.push_back(s);
      } else {
        notes->push_back({d[0], s, tick});
      }
    }
    starts.swap(keep);
  }
  for (int key = 0; key < static_cast<int>(open->size()); ++key) {
    for (int64_t s : (*open)[key]) {
      notes->push_back({key % 128, s, tick});
      ++stats->unterminated;
    }
  }
  return tick;
}

}  // namespace

MidiRoll parse_midi(const uint8_t* data, size_t size, const std::string& name, const MidiTiming& timing) {
  if (timing.seconds_per_frame < 0 || !std::isfinite(timing.seconds_per_frame) ||
      (timing.seconds_per_frame == 0 && (timing.frames_per_quarter < 1 || timing.frames_per_quarter > 960))) {
    throw std::invalid_argument("parse_midi: frames_per_quarter must be in 1..960 or seconds_per_frame > 0");
  }
  MidiRoll roll;
  MidiStats& stats = roll.stats;
  if (size < 8 || be(data, 4) != be(reinterpret_cast<const uint8_t*>("MThd"), 4)) {
    fail_file(name, "not a Standard MIDI File (no MThd header)");
  }
  const uint32_t header_len = be(data + 4, 4);
  if (header_len < 6) fail_file(name, "bad header: MThd length " + std::to_string(header_len) + " (6 expected)");
  if (header_len > size - 8) fail_file(name, "truncated header: MThd announces " + std::to_string(header_len) + " bytes");
  stats.format = static_cast<int>(be(data + 8, 2));
  const uint32_t n_tracks = be(data + 10, 2), division = be(data + 12, 2);
  if (stats.format == 2) fail_file(name, "MIDI format 2 (independent sequences) is not supported");
  if (stats.format > 2) fail_file(name, "bad header: format " + std::to_string(stats.format));
  if (n_tracks == 0) fail_file(name, "bad header: no tracks");
  double ticks_per_second = 0;  // SMPTE division only
  if (division & 0x8000u) {
    const int fps = -static_cast<int8_t>(division >> 8), per_frame = division & 0xFF;
    if ((fps != 24 && fps != 25 && fps != 29 && fps != 30) || per_frame == 0) {
      fail_file(name, "bad header: SMPTE division " + hex(division));
    }
    if (timing.seconds_per_frame == 0) {
      fail_file(name, "SMPTE time division has no quarter notes; quantise it with --seconds-per-frame");
    }
    ticks_per_second = (fps == 29 ? 29.97 : fps) * per_frame;
  } else if (division == 0) {
    fail_file(name, "bad header: 0 ticks per quarter note");
  }

  std::vector<Note> notes;
  std::vector<Tempo> tempos;
  std::vector<std::vector<int64_t>> open(16 * 128);
  int64_t end_tick = 0;
  size_t pos = 8 + header_len;
  while (static_cast<uint32_t>(stats.tracks) < n_tracks) {
    if (size - pos < 8) {
      fail_file(name, "truncated: the header announces " + std::to_string(n_tracks) + " tracks, the file ends after " +
           std::to_string(stats.tracks));
    }
    const std::string id(reinterpret_cast<const char*>(data + pos), 4);
    const uint32_t len = be(data + pos + 4, 4);
    if (len > size - pos - 8) {
      fail_file(name, "truncated chunk \"" + id + "\" at byte " + std::to_string(pos) + ": announces " +
           std::to_string(len) + " bytes, " + std::to_string(size - pos - 8) + " left");
    }
    if (id == "MTrk") {
      Cursor c(data, pos + 8, pos + 8 + len, name);
      end_tick = std::max(end_tick, parse_track(c, &notes, &tempos, &stats, &open));
      ++stats.tracks;
    }  // other chunk types are skipped, as the standard asks
    pos += 8 + static_cast<size_t>(len);
  }

  // Tick -> frame position on the grid.
  std::stable_sort(tempos.begin(), tempos.end(), [](const Tempo& a, const Tempo& b) { return a.tick < b.tick; });
  std::vector<double> tempo_seconds;  // seconds at each tempo event
  double sec = 0;
  for (size_t i = 0; i < tempos.size(); ++i) {
    const int64_t prev_tick = i ? tempos[i - 1].tick : 0;
    const double prev_tempo = i ? tempos[i - 1].us_per_quarter : kDefaultTempo;
    sec += static_cast<double>(tempos[i].tick - prev_tick) * prev_tempo / (1e6 * division);
    tempo_seconds.push_back(sec);
  }
  auto position = [&](int64_t tick) {
    double pos_frames;
    if (timing.seconds_per_frame == 0) {
      pos_frames = static_cast<double>(tick) * timing.frames_per_quarter / division;
    } else if (ticks_per_second > 0) {
      pos_frames = static_cast<double>(tick) / ticks_per_second / timing.seconds_per_frame;
    } else {
      auto it = std::upper_bound(tempos.begin(), tempos.end(), tick,
                                 [](int64_t t, const Tempo& x) { return t < x.tick; });
      const size_t i = static_cast<size_t>(it - tempos.begin());
      const double base = i ? tempo_seconds[i - 1] : 0.0;
      const double tempo = i ? tempos[i - 1].us_per_quarter : kDefaultTempo;
      const int64_t from = i ? tempos[i - 1].tick : 0;
      pos_frames = (base + static_cast<double>(tick - from) * tempo / (1e6 * division)) / timing.seconds_per_frame;
    }
    if (!(pos_frames <= kMaxFrames)) {
      fail_file(name, "longer than " + std::to_string(static_cast<int64_t>(kMaxFrames)) + " frames at this resolution");
    }
    return static_cast<int64_t>(std::floor(pos_frames + 0.5));  // nearest frame, halves up
  };

  int64_t n_frames = position(end_tick);
  struct Span {
    int pitch;
    int64_t on, off;  // frames [on, off)
  };
  std::vector<Span> spans(notes.size());
  for (size_t i = 0; i < notes.size(); ++i) {
    const int64_t on = position(notes[i].on);
    const int64_t off = std::max(position(notes[i].off), on + 1);  // a note never vanishes
    spans[i] = {notes[i].pitch, on, off};
    n_frames = std::max(n_frames, off);
  }
  if (static_cast<double>(n_frames) > kMaxFrames) fail_file(name, "longer than the frame limit at this resolution");
  roll.frames.assign(static_cast<size_t>(n_frames), Frame());
  // Overlapping notes of one pitch are merged first, so each frame's bit is set at most once
  // (bounded work: 88 x frames, whatever the number of notes).
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.pitch != b.pitch ? a.pitch < b.pitch : a.on < b.on; });
  int last_pitch = -1;
  int64_t covered = 0;  // frames below this are already set for last_pitch
  for (const Span& sp : spans) {
    if (sp.pitch != last_pitch) last_pitch = sp.pitch, covered = 0;
    for (int64_t f = std::max(sp.on, covered); f < sp.off; ++f) roll.frames[f].set(sp.pitch - kLowestNote);
    covered = std::max(covered, sp.off);
  }
  stats.notes = static_cast<int64_t>(notes.size());
  return roll;
}

MidiRoll read_midi(const std::string& path, const MidiTiming& timing) {
  const std::string bytes = read_file(path);
  return parse_midi(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path, timing);
}

// ------------------------------------------------------------------------------- writer

namespace {

void put_be(std::string* out, uint32_t v, int n) {
  for (int i = n - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_vlq(std::string* out, uint32_t v) {
  char buf[5];
  int n = 0;
  buf[n++] = static_cast<char>(v & 0x7F);
  while (v >>= 7) buf[n++] = static_cast<char>(0x80 | (v & 0x7F));
  while (n > 0) out->push_back(buf[--n]);
}

}  // namespace

std::string encode_midi(const std::vector<Frame>& frames, const MidiWriteTiming& timing) {
  constexpr uint32_t kTicksPerFrame = 96;
  if (timing.frames_per_quarter < 1 || timing.frames_per_quarter > 341) {
    throw std::invalid_argument("encode_midi: frames_per_quarter must be in 1..341");
  }
  if (timing.velocity < 1 || timing.velocity > 127) throw std::invalid_argument("encode_midi: velocity must be in 1..127");
  const double us = timing.seconds_per_frame > 0 ? timing.seconds_per_frame * timing.frames_per_quarter * 1e6
                                                 : 60e6 / timing.beats_per_minute;
  if (!(us >= 1 && us <= 0xFFFFFF)) {
    throw std::invalid_argument("encode_midi: a quarter note must last 1 us..16.7 s (check the tempo)");
  }
  if (frames.size() > (0x0FFFFFFFu / kTicksPerFrame)) throw std::invalid_argument("encode_midi: too many frames");
  std::string track;
  const std::string title = "Chorus piano roll";
  put_vlq(&track, 0);
  track += "\xFF\x03";
  put_vlq(&track, static_cast<uint32_t>(title.size()));
  track += title;
  put_vlq(&track, 0);
  track += "\xFF\x51\x03";
  put_be(&track, static_cast<uint32_t>(std::llround(us)), 3);
  uint32_t last_tick = 0;
  auto event = [&](uint32_t tick, uint8_t status, int key, int velocity) {
    put_vlq(&track, tick - last_tick);
    last_tick = tick;
    track.push_back(static_cast<char>(status));
    track.push_back(static_cast<char>(key + kLowestNote));
    track.push_back(static_cast<char>(velocity));
  };
  const Frame none;
  for (size_t i = 0; i <= frames.size(); ++i) {
    const Frame& now = i < frames.size() ? frames[i] : none;
    const Frame& before = i > 0 ? frames[i - 1] : none;
    const uint32_t tick = static_cast<uint32_t>(i) * kTicksPerFrame;
    for (int k = 0; k < kKeys; ++k) {
      if (before[k] && !now[k]) event(tick, 0x80, k, 64);  // offs first: a tick never re-strikes
    }
    for (int k = 0; k < kKeys; ++k) {
      if (now[k] && !before[k]) event(tick, 0x90, k, timing.velocity);
    }
  }
  put_vlq(&track, static_cast<uint32_t>(frames.size()) * kTicksPerFrame - last_tick);
  track += std::string("\xFF\x2F\x00", 3);

  std::string out = "MThd";
  put_be(&out, 6, 4);
  put_be(&out, 0, 2);  // format 0
  put_be(&out, 1, 2);  // one track
  put_be(&out, kTicksPerFrame * static_cast<uint32_t>(timing.frames_per_quarter), 2);
  out += "MTrk";
  put_be(&out, static_cast<uint32_t>(track.size()), 4);
  return out + track;
}

void write_midi(const std::vector<Frame>& frames, const std::string& path, const MidiWriteTiming& timing) {
  write_file_atomic(path, encode_midi(frames, timing));
}

}  // namespace chorus
