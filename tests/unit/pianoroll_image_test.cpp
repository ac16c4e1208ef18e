// Tests of the piano-roll PNG writer (data/pianoroll_image.h): size, low keys at the bottom,
// beat lines, notes in black; read back with libpng's simplified API.
#include "data/pianoroll_image.h"

#include <gtest/gtest.h>
#include <png.h>

#include <cstring>
#include <filesystem>

#include "tests/support/fixtures.h"

namespace chorus {
namespace {

class PianoRollImageTest : public testing::TempDirTest {
 protected:
  // Reads an RGB PNG; returns false when libpng cannot.
  bool read_png(const std::string& path, png_uint_32* width, png_uint_32* height, std::vector<uint8_t>* rgb) {
    png_image image;
    std::memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&image, path.c_str())) return false;
    image.format = PNG_FORMAT_RGB;
    rgb->resize(PNG_IMAGE_SIZE(image));
    const bool ok = png_image_finish_read(&image, nullptr, rgb->data(), 0, nullptr) != 0;
    *width = image.width;
    *height = image.height;
    return ok;
  }
};

TEST_F(PianoRollImageTest, PitchUpTimeRightWithBeatLines) {
  std::vector<Frame> frames(8);
  frames[1].set(0);                 // A0 (lowest key) in frame 1
  frames[6].set(kKeys - 1);         // C8 (highest key) in frame 6
  const std::string path = dir_ + "/roll.png";
  write_pianoroll_png(frames, path, /*frames_per_beat=*/4);
  png_uint_32 w = 0, h = 0;
  std::vector<uint8_t> rgb;
  ASSERT_TRUE(read_png(path, &w, &h, &rgb));
  ASSERT_EQ(w, 8u * 4);
  ASSERT_EQ(h, 88u * 3);
  auto px = [&](png_uint_32 x, png_uint_32 y) { return rgb[(y * w + x) * 3]; };
  EXPECT_EQ(px(4 + 1, h - 1), 0);   // A0: bottom rows, frame 1's columns
  EXPECT_EQ(px(4 + 1, h - 3), 0);
  EXPECT_EQ(px(4 + 1, h - 4), 255);  // the key above is white
  EXPECT_EQ(px(6 * 4 + 2, 0), 0);   // C8: top row, frame 6
  EXPECT_EQ(px(2 * 4 + 1, h - 1), 255);
  EXPECT_EQ(px(0, 40), 150);        // bar line (every 4 beats) at frame 0
  EXPECT_EQ(px(4 * 4, 40), 200);    // beat line at frame 4
  EXPECT_EQ(px(4 * 4 + 1, 40), 255);
  // Note 24 (C1, key 3) has the octave band.
  EXPECT_EQ(px(2 * 4 + 1, h - 1 - 3 * 3), 236);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));

  write_pianoroll_png(frames, path, 0, {/*pixels_per_frame=*/1, /*pixels_per_key=*/1});
  ASSERT_TRUE(read_png(path, &w, &h, &rgb));
  EXPECT_EQ(w, 8u);
  EXPECT_EQ(h, 88u);
  EXPECT_EQ(px(1, 87), 0);
  EXPECT_THROW(write_pianoroll_png(std::vector<Frame>(300000), path, 4), std::invalid_argument);
  EXPECT_THROW(write_pianoroll_png(frames, dir_ + "/no/such/dir.png", 4), std::exception);
}

}  // namespace
}  // namespace chorus
