// Tests of the MIDI reader and writer (data/midi.h) on MIDI bytes crafted here: format 0 and 1,
// running status, skipped meta/sysex, tempo changes on a seconds grid, note-off as velocity 0,
// overlapping notes of one pitch, the drum channel, out-of-range notes, malformed and truncated
// files, and the write_midi -> read_midi round trip (plus midicsv/timidity when installed).
#include "data/midi.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "data/errors.h"
#include "tests/support/fixtures.h"

namespace chorus {
namespace {

// ---- crafting MIDI bytes

std::string vlq(uint32_t v) {
  std::string out(1, static_cast<char>(v & 0x7F));
  while (v >>= 7) out.insert(out.begin(), static_cast<char>(0x80 | (v & 0x7F)));
  return out;
}

std::string be(uint32_t v, int n) {
  std::string out;
  for (int i = n - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}

// A track body: events appended as (delta, raw bytes).
struct Track {
  std::string body;
  Track& ev(uint32_t delta, std::initializer_list<int> bytes) {
    body += vlq(delta);
    for (int b : bytes) body.push_back(static_cast<char>(b));
    return *this;
  }
  Track& tempo(uint32_t delta, uint32_t us) { return ev(delta, {0xFF, 0x51, 0x03}).raw(be(us, 3)); }
  Track& raw(const std::string& bytes) {
    body += bytes;
    return *this;
  }
  Track& end(uint32_t delta = 0) { return ev(delta, {0xFF, 0x2F, 0x00}); }
};

std::string smf(int format, int division, const std::vector<Track>& tracks) {
  std::string out = "MThd" + be(6, 4) + be(format, 2) + be(static_cast<uint32_t>(tracks.size()), 2) + be(division, 2);
  for (const Track& t : tracks) out += "MTrk" + be(static_cast<uint32_t>(t.body.size()), 4) + t.body;
  return out;
}

MidiRoll parse(const std::string& bytes, MidiTiming timing = {}) {
  return parse_midi(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "song.mid", timing);
}

Frame keys(std::initializer_list<int> notes) {
  Frame f;
  for (int n : notes) f.set(n - kLowestNote);
  return f;
}

// Division 96 and 4 frames per quarter: 24 ticks per frame.
TEST(MidiTest, Format0NotesLandOnTheGrid) {
  Track t;
  t.ev(0, {0x90, 60, 100}).ev(48, {0x80, 60, 0}).ev(0, {0x90, 64, 90}).ev(48, {0x80, 64, 64}).end(24);
  const MidiRoll r = parse(smf(0, 96, {t}));
  ASSERT_EQ(r.frames.size(), 5u);  // End of Track at tick 120 = frame 5
  EXPECT_EQ(r.frames[0], keys({60}));
  EXPECT_EQ(r.frames[1], keys({60}));
  EXPECT_EQ(r.frames[2], keys({64}));
  EXPECT_EQ(r.frames[3], keys({64}));
  EXPECT_EQ(r.frames[4], Frame());
  EXPECT_EQ(r.stats.format, 0);
  EXPECT_EQ(r.stats.tracks, 1);
  EXPECT_EQ(r.stats.notes, 2);
  // Twice the resolution: twice the frames.
  EXPECT_EQ(parse(smf(0, 96, {t}), {8, 0}).frames.size(), 10u);
}

TEST(MidiTest, Format1RunningStatusAndNoteOffAsVelocityZero) {
  Track conductor;
  conductor.tempo(0, 500000).ev(0, {0xFF, 0x58, 0x04, 4, 2, 24, 8}).end();
  Track melody;
  // 0x90 once, then running status for three more note-ons (velocity 0 = note-off).
  melody.ev(0, {0x90, 60, 80}).ev(0, {67, 80}).ev(48, {60, 0}).ev(0, {67, 0}).ev(0, {72, 70}).ev(24, {72, 0}).end();
  const MidiRoll r = parse(smf(1, 96, {conductor, melody}));
  EXPECT_EQ(r.stats.format, 1);
  EXPECT_EQ(r.stats.tracks, 2);
  ASSERT_EQ(r.frames.size(), 3u);
  EXPECT_EQ(r.frames[0], keys({60, 67}));
  EXPECT_EQ(r.frames[1], keys({60, 67}));
  EXPECT_EQ(r.frames[2], keys({72}));
  EXPECT_EQ(r.stats.notes, 3);
  EXPECT_EQ(r.stats.unterminated, 0);
}

TEST(MidiTest, MetaAndSysexEventsAreSkippedAndKeepRunningStatus) {
  Track t;
  t.ev(0, {0xFF, 0x03, 0x05}).raw("Title");                        // track name
  t.ev(0, {0xF0, 0x04, 0x90, 0x3C, 0x40, 0xF7});                   // sysex whose payload looks like a note
  t.ev(0, {0x90, 62, 90});
  t.ev(24, {0xFF, 0x01, 0x03, 0x90, 0x3D, 0x40});                  // text meta, same trick
  t.ev(0, {0xF7, 0x02, 0x91, 0x40});                               // escape ("F7") event
  t.ev(0, {62, 0});                                                // running status 0x90 still in effect
  t.ev(0, {0xFF, 0x7F, 0x00}).end(24);                             // sequencer-specific, empty
  const MidiRoll r = parse(smf(0, 96, {t}));
  ASSERT_EQ(r.frames.size(), 2u);
  EXPECT_EQ(r.frames[0], keys({62}));
  EXPECT_EQ(r.frames[1], Frame());
  EXPECT_EQ(r.stats.notes, 1);
}

// Division 480; 0.5 s per quarter until tick 960 (1.0 s), then 0.25 s per quarter.
TEST(MidiTest, TempoChangesApplyOnASecondsGridOnly) {
  Track conductor;
  conductor.tempo(0, 500000).tempo(960, 250000).end();
  Track notes;
  notes.ev(0, {0x90, 60, 80}).ev(480, {0x80, 60, 0}).ev(480, {0x90, 72, 80}).ev(480, {0x80, 72, 0}).end();
  const std::string bytes = smf(1, 480, {conductor, notes});
  const MidiRoll sec = parse(bytes, {4, 0.25});
  // note 60: 0..0.5 s -> frames 0,1; note 72: 1.0..1.25 s -> frame 4 (after the change: 0.25 s/quarter)
  ASSERT_EQ(sec.frames.size(), 5u);
  EXPECT_EQ(sec.frames[0], keys({60}));
  EXPECT_EQ(sec.frames[1], keys({60}));
  EXPECT_EQ(sec.frames[2], Frame());
  EXPECT_EQ(sec.frames[3], Frame());
  EXPECT_EQ(sec.frames[4], keys({72}));
  EXPECT_EQ(sec.stats.tempo_changes, 2);
  // Musical grid: the tempo does not matter; note 72 is quarter 2..3 = frames 8..11.
  const MidiRoll mus = parse(bytes, {4, 0});
  ASSERT_EQ(mus.frames.size(), 12u);
  EXPECT_EQ(mus.frames[7], Frame());
  EXPECT_EQ(mus.frames[8], keys({72}));
  EXPECT_EQ(mus.frames[11], keys({72}));
  // Without any tempo event the default is 120 bpm (0.5 s per quarter).
  Track plain;
  plain.ev(0, {0x90, 60, 80}).ev(960, {0x80, 60, 0}).end();
  EXPECT_EQ(parse(smf(0, 480, {plain}), {4, 0.5}).frames.size(), 2u);
}

TEST(MidiTest, OverlappingNotesOfOnePitch) {
  Track t;
  t.ev(0, {0x90, 60, 80}).ev(24, {0x90, 60, 80});   // re-struck while sounding
  t.ev(24, {0x80, 60, 0});                          // one note-off ends both (frame 2 silent)
  t.ev(0, {0x90, 62, 80}).ev(48, {0x90, 62, 80}).ev(0, {0x80, 62, 0});  // next note's on before the old off
  t.ev(48, {0x80, 62, 0});                          // 62 sounds frames 2..5 without a gap
  t.ev(0, {0x90, 64, 80}).ev(0, {0x80, 64, 0});     // zero-length note: still one frame (6)
  t.ev(0, {0x90, 65, 80}).ev(12, {0x91, 65, 80}).ev(36, {0x80, 65, 0}).ev(24, {0x81, 65, 0});  // two channels: union
  t.end(24);
  const MidiRoll r = parse(smf(0, 96, {t}));
  ASSERT_EQ(r.frames.size(), 10u);
  for (int f : {0, 1}) EXPECT_EQ(r.frames[f][60 - kLowestNote], true) << f;
  for (int f = 2; f < 10; ++f) EXPECT_EQ(r.frames[f][60 - kLowestNote], false) << f;
  for (int f = 0; f < 10; ++f) EXPECT_EQ(r.frames[f][62 - kLowestNote], f >= 2 && f < 6) << f;
  for (int f = 0; f < 10; ++f) EXPECT_EQ(r.frames[f][64 - kLowestNote], f == 6) << f;
  // 65: ch1 from tick 144 (frame 6), ch2 from 156 (6.5 -> 7); ch1 off at 192 (8), ch2 off at 216 (9)
  for (int f = 0; f < 10; ++f) EXPECT_EQ(r.frames[f][65 - kLowestNote], f >= 6 && f < 9) << f;
  EXPECT_EQ(r.stats.notes, 7);
}

TEST(MidiTest, DrumChannelAndOutOfRangeNotesAreDroppedAndCounted) {
  Track t;
  t.ev(0, {0x99, 36, 100}).ev(0, {0x99, 42, 100});   // channel 10: bass drum, hi-hat
  t.ev(0, {0x90, 20, 80}).ev(0, {0x90, 109, 80});     // just outside the piano
  t.ev(0, {0x90, 21, 80}).ev(0, {0x90, 108, 80});     // its lowest and highest keys
  t.ev(24, {0x89, 36, 0}).ev(0, {0x80, 20, 0}).ev(0, {0x80, 109, 0}).ev(0, {0x80, 21, 0}).ev(0, {0x80, 108, 0});
  t.end();
  const MidiRoll r = parse(smf(0, 96, {t}));
  EXPECT_EQ(r.stats.dropped_drums, 2);
  EXPECT_EQ(r.stats.dropped_out_of_range, 2);
  EXPECT_EQ(r.stats.notes, 2);
  ASSERT_EQ(r.frames.size(), 1u);
  EXPECT_EQ(r.frames[0], keys({21, 108}));
}

TEST(MidiTest, NotesStillOnAtTheEndOfTheirTrackEndThere) {
  Track t;
  t.ev(0, {0x90, 60, 80}).end(72);
  const MidiRoll r = parse(smf(0, 96, {t}));
  EXPECT_EQ(r.stats.unterminated, 1);
  ASSERT_EQ(r.frames.size(), 3u);
  EXPECT_EQ(r.frames[2], keys({60}));
}

class MidiFileTest : public testing::TempDirTest {};

TEST_F(MidiFileTest, EveryTruncationIsAnInputErrorNamingTheFile) {
  Track conductor;
  conductor.tempo(0, 500000).end();
  Track t;
  t.ev(0, {0x90, 60, 80}).ev(0xFFFF, {0x80, 60, 0}).ev(0, {0xF0, 0x02, 0x01, 0xF7}).end();
  const std::string full = smf(1, 96, {conductor, t});
  ASSERT_NO_THROW(parse(full));
  for (size_t cut = 0; cut < full.size(); ++cut) {
    const std::string path = write("cut.mid", full.substr(0, cut));
    try {
      read_midi(path, {});
      ADD_FAILURE() << "no error for a file cut at " << cut << " of " << full.size() << " bytes";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(path + ": "), std::string::npos) << e.what();
    }
  }
  try {
    read_midi(write("short.mid", full.substr(0, full.size() - 3)), {});
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated chunk \"MTrk\""), std::string::npos) << e.what();
  }
  EXPECT_THROW(read_midi(dir_ + "/absent.mid", {}), InputError);
}

TEST(MidiTest, MalformedFilesNameTheReason) {
  auto reason = [](const std::string& bytes) {
    try {
      parse(bytes);
    } catch (const InputError& e) {
      const std::string what = e.what();
      EXPECT_EQ(what.rfind("song.mid: ", 0), 0u) << what;
      return what;
    }
    return std::string("(no error)");
  };
  Track ok;
  ok.ev(0, {0x90, 60, 80}).ev(24, {0x80, 60, 0}).end();
  EXPECT_NE(reason("RIFF....").find("not a Standard MIDI File"), std::string::npos);
  std::string short_header = smf(0, 96, {ok});
  short_header[7] = 5;
  EXPECT_NE(reason(short_header).find("bad header"), std::string::npos);
  EXPECT_NE(reason(smf(3, 96, {ok})).find("bad header: format 3"), std::string::npos);
  EXPECT_NE(reason(smf(2, 96, {ok})).find("format 2"), std::string::npos);
  EXPECT_NE(reason(smf(0, 0, {ok})).find("0 ticks per quarter"), std::string::npos);
  EXPECT_NE(reason(smf(0, 0xE728, {ok})).find("--seconds-per-frame"), std::string::npos);  // SMPTE 25 fps
  EXPECT_NO_THROW(parse(smf(0, 0xE728, {ok}), {4, 0.1}));
  EXPECT_NE(reason(smf(0, 96, {})).find("no tracks"), std::string::npos);
  Track no_status;
  no_status.ev(0, {60, 80}).end();
  EXPECT_NE(reason(smf(0, 96, {no_status})).find("running status without a previous status"), std::string::npos);
  Track bad_data;
  bad_data.ev(0, {0x90, 0x90, 80}).end();
  EXPECT_NE(reason(smf(0, 96, {bad_data})).find("data byte 0x90"), std::string::npos);
  Track system;
  system.ev(0, {0xF8}).end();
  EXPECT_NE(reason(smf(0, 96, {system})).find("status 0xF8"), std::string::npos);
  Track long_delta;
  long_delta.raw("\x81\x82\x83\x84\x05").ev(0, {0x90, 60, 80}).end();
  EXPECT_NE(reason(smf(0, 96, {long_delta})).find("longer than 4 bytes"), std::string::npos);
  Track bad_tempo;
  bad_tempo.ev(0, {0xFF, 0x51, 0x02, 0x07, 0xA1}).end();
  EXPECT_NE(reason(smf(0, 96, {bad_tempo})).find("Set Tempo"), std::string::npos);
  Track huge;
  huge.ev(0, {0x90, 60, 80}).ev(0x0FFFFFFF, {0x80, 60, 0}).end();
  EXPECT_NE(reason(smf(0, 1, {huge})).find("frames at this resolution"), std::string::npos);
  std::string missing_track = smf(0, 96, {ok});
  missing_track[11] = 2;  // announces two tracks
  EXPECT_NE(reason(missing_track).find("announces 2 tracks"), std::string::npos);
  // An unknown chunk between tracks is skipped.
  std::string alien = smf(0, 96, {ok});
  alien.insert(14, "XFIR" + be(3, 4) + "abc");
  EXPECT_EQ(parse(alien).stats.notes, 1);
}

std::vector<Frame> random_roll(size_t n, uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<Frame> frames(n);
  for (size_t i = 3; i + 2 < n; ++i) {  // silent first 3 and last 2 frames
    for (int k = 0; k < kKeys; ++k) {
      const bool was = frames[i - 1][k];
      if (engine() % 100 < (was ? 70u : 4u)) frames[i].set(k);
    }
  }
  frames[5].set(0);
  frames[6].set(kKeys - 1);
  return frames;
}

TEST_F(MidiFileTest, WriteThenReadGivesTheSameFrames) {
  const std::vector<Frame> frames = random_roll(64, 11);
  const std::string musical = dir_ + "/musical.mid", timed = dir_ + "/timed.mid";
  write_midi(frames, musical, {/*frames_per_quarter=*/4, /*seconds_per_frame=*/0, /*beats_per_minute=*/100});
  write_midi(frames, timed, {/*frames_per_quarter=*/4, /*seconds_per_frame=*/0.3});
  EXPECT_EQ(read_midi(musical, {4, 0}).frames, frames);
  EXPECT_EQ(read_midi(timed, {4, 0.3}).frames, frames);
  EXPECT_EQ(read_midi(timed, {4, 0}).frames, frames);  // 4 frames per quarter either way
  const MidiRoll halved = read_midi(timed, {4, 0.6});
  EXPECT_EQ(halved.frames.size(), 32u);
  EXPECT_EQ(read_midi(musical, {4, 0}).stats.format, 0);
  EXPECT_FALSE(std::filesystem::exists(musical + ".tmp"));
  EXPECT_EQ(read_midi(write("empty.mid", encode_midi({}, {})), {}).frames.size(), 0u);
  EXPECT_THROW(encode_midi(frames, {4, 20.0}), std::invalid_argument);  // a quarter of 80 s
}

// Other programs read our files: midicsv lists every note, timidity renders without complaint.
TEST_F(MidiFileTest, MidicsvAndTimidityReadWrittenFiles) {
  const bool midicsv = std::system("command -v midicsv >/dev/null 2>&1") == 0;
  const bool timidity = std::system("command -v timidity >/dev/null 2>&1") == 0;
  if (!midicsv && !timidity) GTEST_SKIP() << "neither midicsv nor timidity is installed";
  const std::vector<Frame> frames = random_roll(40, 3);
  const std::string path = dir_ + "/roll.mid";
  write_midi(frames, path, {4, 0.3});
  int64_t onsets = 0;
  for (size_t i = 0; i < frames.size(); ++i) onsets += (frames[i] & ~(i ? frames[i - 1] : Frame())).count();
  if (midicsv) {
    ASSERT_EQ(std::system(("midicsv " + path + " " + dir_ + "/roll.csv 2>" + dir_ + "/err").c_str()), 0);
    std::ifstream csv(dir_ + "/roll.csv"), err(dir_ + "/err");
    std::string line, errors((std::istreambuf_iterator<char>(err)), {});
    int64_t on = 0, off = 0, tempo = 0;
    while (std::getline(csv, line)) {
      on += line.find("Note_on_c") != std::string::npos;
      off += line.find("Note_off_c") != std::string::npos;
      tempo += line.find("Tempo, 1200000") != std::string::npos;
    }
    EXPECT_EQ(on, onsets);
    EXPECT_EQ(off, onsets);
    EXPECT_EQ(tempo, 1);
    EXPECT_EQ(errors, "");
  }
  if (timidity) {
    const std::string log = dir_ + "/timidity.log";
    // An empty configuration: no sound fonts needed to parse (timidity exits 0 even on a broken
    // file, but complains "Warning: ...: Too shorten midi file." and the like).
    const std::string cfg = write("timidity.cfg", "\n");
    ASSERT_EQ(std::system(("timidity -c " + cfg + " -Ow -o /dev/null " + path + " >" + log + " 2>&1").c_str()), 0);
    std::ifstream in(log);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_EQ(text.find("rror"), std::string::npos) << text;
    EXPECT_EQ(text.find("arning"), std::string::npos) << text;
  }
}

// Real files: the Nottingham Music Database's MIDI rendering (jukedeck), format 1.
TEST(MidiSharedDataTest, ReadsJukedeckNottinghamFiles) {
  const char* root = std::getenv("CHORUS_SHARED_DATA");
  const std::string dir = root ? std::string(root) + "/nottingham/jukedeck/MIDI" : "";
  if (!root || !std::filesystem::exists(dir + "/ashover1.mid")) {
    GTEST_SKIP() << "CHORUS_SHARED_DATA/nottingham/jukedeck/MIDI not found (set CHORUS_SHARED_DATA)";
  }
  for (const char* name : {"ashover1.mid", "jigs10.mid", "reelsa-c1.mid", "waltzes5.mid", "xmas1.mid"}) {
    const std::string path = dir + "/" + name;
    if (!std::filesystem::exists(path)) continue;
    const MidiRoll r = read_midi(path, {4, 0});
    EXPECT_EQ(r.stats.format, 1) << name;
    EXPECT_GT(r.stats.notes, 20) << name;
    EXPECT_EQ(r.stats.dropped_out_of_range, 0) << name;
    EXPECT_GT(r.frames.size(), 16u) << name;
    int64_t active = 0;
    for (const Frame& f : r.frames) {
      active += static_cast<int64_t>(f.count());
      for (int k = 0; k < kKeys; ++k) {
        if (!f[k]) continue;
        EXPECT_TRUE(k + kLowestNote >= 28 && k + kLowestNote <= 96) << name << " note " << k + kLowestNote;
      }
    }
    EXPECT_GT(active, r.stats.notes) << name;  // notes last more than one frame
  }
}

}  // namespace
}  // namespace chorus
