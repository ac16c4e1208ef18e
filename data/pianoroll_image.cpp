// Piano-roll PNG writer over libpng's simplified write API (no setjmp across C++ frames).
// Invariant: row 0 of the picture is the top (key 87, C8) and key 0 (A0) is the bottom band;
// frame f occupies columns [f*px, (f+1)*px). The file appears complete or not at all.
#include "data/pianoroll_image.h"

#include <png.h>

#include <cstdio>
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "data/errors.h"
#include "data/files.h"

namespace chorus {

void write_pianoroll_png(const std::vector<Frame>& frames, const std::string& path, int frames_per_beat,
                         const PianoRollImageOptions& options) {
  const int px = options.pixels_per_frame, py = options.pixels_per_key;
  if (px < 1 || px > 64 || py < 1 || py > 64) throw std::invalid_argument("write_pianoroll_png: scale in 1..64");
  if (frames_per_beat < 0) throw std::invalid_argument("write_pianoroll_png: frames_per_beat must be >= 0");
  const size_t n = std::max<size_t>(frames.size(), 1);
  if (n * px > 1000000) {
    throw std::invalid_argument("write_pianoroll_png: " + std::to_string(frames.size()) +
                                " frames make a picture wider than 1,000,000 pixels; draw a part of the roll");
  }
  const size_t width = n * px, height = static_cast<size_t>(kKeys) * py;
  std::vector<uint8_t> rgb(width * height * 3, 255);
  auto fill = [&](size_t x0, size_t x1, int key, uint8_t value) {
    const size_t y0 = static_cast<size_t>(kKeys - 1 - key) * py;
    for (size_t y = y0; y < y0 + py; ++y) std::memset(&rgb[(y * width + x0) * 3], value, (x1 - x0) * 3);
  };
  for (int k = 0; k < kKeys; ++k) {
    if ((k + kLowestNote) % 12 == 0) fill(0, width, k, 236);  // every C
  }
  if (frames_per_beat > 0) {
    for (size_t f = 0; f < n; f += frames_per_beat) {
      const uint8_t shade = (f / frames_per_beat) % 4 == 0 ? 150 : 200;
      for (size_t y = 0; y < height; ++y) std::memset(&rgb[(y * width + f * px) * 3], shade, 3);
    }
  }
  for (size_t f = 0; f < frames.size(); ++f) {
    for (int k = 0; k < kKeys; ++k) {
      if (frames[f][k]) fill(f * px, (f + 1) * px, k, 0);
    }
  }

  png_image image;
  std::memset(&image, 0, sizeof image);
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = PNG_FORMAT_RGB;
  const std::string tmp = path + ".tmp";
  const bool ok = png_image_write_to_file(&image, tmp.c_str(), /*convert_to_8bit=*/0, rgb.data(),
                                          /*row_stride=*/0, /*colormap=*/nullptr) != 0;
  const std::string message = image.message;
  png_image_free(&image);
  if (!ok) {
    std::remove(tmp.c_str());
    throw InputError(path + ": cannot write PNG: " + message);
  }
  try {
    fsync_path(tmp);
  } catch (...) {
    std::remove(tmp.c_str());
    throw;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw InputError("cannot rename " + tmp + " to " + path);
  }
}

}  // namespace chorus
