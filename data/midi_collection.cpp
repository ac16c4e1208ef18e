// Listing a nested MIDI collection and reading it on a pool of threads, in order.
// Invariants: the list and each file's split depend only on the file tree (never on timing);
// results reach the consumer in list order with a bounded number in flight; no reader thread
// outlives read_midi_collection, also when the consumer throws.
#include "data/midi_collection.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "data/errors.h"
#include "data/hash.h"

namespace chorus {
namespace {

namespace fs = std::filesystem;

bool is_midi_name(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".mid" || ext == ".midi";
}

// Appends the MIDI files under `dir` (to any depth) as `prefix` + their relative path.
void walk(const fs::path& dir, const std::string& prefix, std::vector<std::string>* out) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& e = *it;
    const std::string name = prefix + e.path().filename().string();
    std::error_code kind;
    if (e.is_directory(kind) && !e.is_symlink(kind)) {
      walk(e.path(), name + "/", out);
    } else if (is_midi_name(e.path()) && e.is_regular_file(kind)) {
      out->push_back(name);
    }
  }
  if (ec) throw InputError(dir.string() + ": cannot list the folder: " + ec.message());
}

bool is_dir(const fs::path& p) {
  std::error_code ec;
  return fs::is_directory(p, ec);
}

// The file's bytes, or a status saying why not.
MidiFileRead::Status read_bytes(const std::string& path, std::string* bytes, std::string* error) {
  struct stat st;
  std::unique_ptr<FILE, int (*)(FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!f || ::fstat(fileno(f.get()), &st) != 0) {
    *error = path + ": cannot open: " + std::strerror(errno);
    return MidiFileRead::Status::kUnreadable;
  }
  if (st.st_size > kMaxMidiFileBytes) {
    *error = path + ": " + std::to_string(st.st_size) + " bytes, over the " +
             std::to_string(kMaxMidiFileBytes >> 20) + " MiB a MIDI file may have here";
    return MidiFileRead::Status::kTooLarge;
  }
  bytes->resize(static_cast<size_t>(st.st_size));
  const size_t got = bytes->empty() ? 0 : std::fread(bytes->data(), 1, bytes->size(), f.get());
  if (got != bytes->size() || std::ferror(f.get())) {
    *error = path + ": read error";
    return MidiFileRead::Status::kUnreadable;
  }
  return MidiFileRead::Status::kOk;
}

MidiFileRead read_one(const std::string& path, const MidiTiming& timing) {
  MidiFileRead r;
  std::string bytes;
  r.status = read_bytes(path, &bytes, &r.error);
  if (r.status != MidiFileRead::Status::kOk) return r;
  r.bytes = static_cast<int64_t>(bytes.size());
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), r.sha256.data(), &len, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("sha256: OpenSSL EVP_Digest failed");
  }
  try {
    r.roll = parse_midi(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), path, timing);
  } catch (const InputError& e) {
    r.status = MidiFileRead::Status::kCorrupt;
    r.error = e.what();
    return r;
  }
  r.frames = static_cast<int64_t>(r.roll.frames.size());
  r.active = count_active(r.roll.frames);
  pack_frames(r.roll.frames, &r.packed);
  std::vector<Frame>().swap(r.roll.frames);
  return r;
}

}  // namespace

MidiCollection list_midi_collection(const std::string& dir, double valid_fraction, double test_fraction) {
  if (!is_dir(dir)) throw InputError(dir + ": --midi: no such folder");
  MidiCollection c;
  c.dir = dir;
  while (c.dir.size() > 1 && c.dir.back() == '/') c.dir.pop_back();
  std::vector<std::string> names;
  walk(c.dir, "", &names);
  std::sort(names.begin(), names.end());
  for (const char* s : {"train", "valid", "test"}) c.split_folders = c.split_folders || is_dir(c.dir + "/" + s);
  for (std::string& name : names) {
    const char* split = nullptr;
    if (c.split_folders) {
      for (const char* s : {"train", "valid", "test"}) {
        if (name.compare(0, std::strlen(s) + 1, std::string(s) + "/") == 0) split = s;
      }
      if (!split) {
        ++c.ignored;
        continue;
      }
    } else {
      split = split_of_key(name, valid_fraction, test_fraction);
    }
    c.files.push_back({std::move(name), split});
  }
  if (c.files.empty()) throw InputError(dir + ": no .mid or .midi files");
  return c;
}

int midi_reader_threads(int requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

void read_midi_collection(const MidiCollection& collection, const MidiTiming& timing, int threads,
                          const std::function<void(size_t, MidiFileRead&)>& consume) {
  const size_t n = collection.files.size();
  const size_t workers = static_cast<size_t>(midi_reader_threads(threads));
  const size_t window = 4 * workers;  // results in flight: bounds memory, keeps every thread fed
  struct Slot {
    bool ready = false;
    MidiFileRead read;
    std::exception_ptr failure;  // an unexpected error in the worker, rethrown in order
  };
  std::vector<Slot> ring(window);
  std::mutex mu;
  std::condition_variable to_workers, to_consumer;
  size_t next = 0, consumed = 0;
  bool stop = false;

  auto work = [&] {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      to_workers.wait(lock, [&] { return stop || next >= n || next < consumed + window; });
      if (stop || next >= n) return;
      const size_t i = next++;
      lock.unlock();
      Slot done;
      try {
        done.read = read_one(collection.path(collection.files[i]), timing);
      } catch (...) {
        done.failure = std::current_exception();
      }
      done.ready = true;
      lock.lock();
      ring[i % window] = std::move(done);
      to_consumer.notify_one();
    }
  };
  std::vector<std::thread> pool;
  // Whatever happens below, the workers are told to stop and joined before we return.
  struct Joiner {
    std::vector<std::thread>& pool;
    std::mutex& mu;
    std::condition_variable& cv;
    bool& stop;
    ~Joiner() {
      {
        std::lock_guard<std::mutex> lock(mu);
        stop = true;
      }
      cv.notify_all();
      for (std::thread& t : pool) t.join();
    }
  } joiner{pool, mu, to_workers, stop};
  for (size_t w = 0; w < std::min(workers, n); ++w) pool.emplace_back(work);

  for (size_t i = 0; i < n; ++i) {
    Slot slot;
    {
      std::unique_lock<std::mutex> lock(mu);
      to_consumer.wait(lock, [&] { return ring[i % window].ready; });
      slot = std::move(ring[i % window]);
      ring[i % window] = Slot{};
      consumed = i + 1;
    }
    to_workers.notify_all();
    if (slot.failure) std::rethrow_exception(slot.failure);
    consume(i, slot.read);
  }
}

}  // namespace chorus
