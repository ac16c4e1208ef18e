// A checkpoint written on a GPU loads on a CPU-only machine (`chorus sample` / `eval` of a model
// trained on a cluster). Without a GPU, the GPU-written file is made by rewriting the storage
// location in a CPU-written model.pt ("cpu" -> "cuda:0"), which is all that differs in LibTorch's
// archive; tests/gpu covers the real round trip GPU -> CPU -> GPU.
#include <gtest/gtest.h>

#include <caffe2/serialize/inline_container.h>

#include <filesystem>
#include <sstream>
#include <string>

#include "data/files.h"
#include "tests/support/fixtures.h"
#include "tests/support/models.h"
#include "trainer/run/checkpoint_store.h"
#include "trainer/config/config.h"
#include "trainer/run/checkpointer.h"

namespace chorus {
namespace {
namespace fs = std::filesystem;

// Copies the archive `from` to `to` with every pickled "cpu" storage location made "cuda:0".
// Returns how many locations it rewrote.
int relocate_to_cuda(const std::string& from, const std::string& to) {
  caffe2::serialize::PyTorchStreamReader reader(from);
  caffe2::serialize::PyTorchStreamWriter writer(to);
  // BINUNICODE "cpu" -> BINUNICODE "cuda:0" (later uses refer to it through the pickle memo).
  const std::string cpu("X\x03\x00\x00\x00" "cpu", 8), cuda("X\x06\x00\x00\x00" "cuda:0", 11);
  int rewritten = 0;
  for (const std::string& name : reader.getAllRecords()) {
    if (name == "version" || name == ".data/version") continue;  // the writer adds its own
    auto [data, size] = reader.getRecord(name);
    std::string bytes(static_cast<const char*>(data.get()), size);
    if (name == "data.pkl") {
      for (size_t at = bytes.find(cpu); at != std::string::npos; at = bytes.find(cpu, at)) {
        bytes.replace(at, cpu.size(), cuda);
        ++rewritten;
      }
    }
    writer.writeRecord(name, bytes.data(), bytes.size());
  }
  writer.writeEndOfFile();
  return rewritten;
}

TEST(CheckpointDevice, AModelSavedOnAGpuLoadsOnTheCpu) {
  const std::string dir = testing::make_temp_dir("device");
  Config c;
  c.data.path = "corpus.h5";  // required by the config it is saved with
  c.model.kind = ModelKind::kPianoRoll;
  c.model.hidden_size = 12;
  c.model.layers = 2;
  torch::manual_seed(5);
  SequenceModel trained = testing::frame_model(c.model);
  const std::string plain = dir + "/plain.pt";
  torch::save(trained, plain);

  // A complete checkpoint whose model.pt says its tensors live on cuda:0.
  CheckpointStore store(dir + "/run");
  const std::string staging = store.begin(/*step=*/40);
  ASSERT_EQ(relocate_to_cuda(plain, staging + "/model.pt"), 1);
  write_file_atomic(staging + "/config.yaml", to_yaml(c));
  write_file_atomic(staging + "/pianoroll.json",
                    R"({"time_unit": "quarter", "frames_per_quarter": 4, "seconds_per_frame": 0.0})");
  store.commit(40, {{"step", 40}});

  if (!torch::cuda::is_available()) {
    // Unmapped, this LibTorch cannot make CUDA tensors: the file really is a GPU checkpoint.
    SequenceModel unmapped = testing::frame_model(c.model);
    EXPECT_ANY_THROW(torch::load(unmapped, store.root() + "/step-00000040/model.pt"));
  }
  std::ostringstream log;
  const LoadedModel loaded = load_model(dir + "/run", log);
  EXPECT_EQ(loaded.step, 40);
  const auto want = trained->parameters(), got = loaded.model->parameters();
  ASSERT_EQ(want.size(), got.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_TRUE(got[i].device().is_cpu());
    EXPECT_TRUE(torch::equal(want[i], got[i])) << "parameter " << i;
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace chorus
