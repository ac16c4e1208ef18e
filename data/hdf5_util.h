// Small RAII and string helpers over the HDF5 C API, shared by the corpus reader and writer.
// Every id is closed exactly once (by its owner), and every failure becomes an exception that
// names the file, because HDF5's own error stack printing is switched off.
#pragma once
#include <hdf5.h>

#include <cstdint>
#include <string>
#include <vector>

namespace chorus::h5 {

// Switches off HDF5's automatic error printing (once per process).
void quiet_errors();


// Owns one HDF5 identifier and closes it with the matching H5?close.
class Id {
 public:
  Id() = default;
  explicit Id(hid_t id) : id_(id) {}
  ~Id() { reset(); }
  Id(Id&& o) noexcept : id_(o.id_) { o.id_ = -1; }
  Id& operator=(Id&& o) noexcept;
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }
  bool valid() const { return id_ >= 0; }
  void reset();
  // Gives up ownership without closing (the caller closes and checks the result).
  hid_t release() {
    hid_t id = id_;
    id_ = -1;
    return id;
  }

 private:
  hid_t id_ = -1;
};

// Throws std::runtime_error("<file>: <what>") when `id` < 0; returns it wrapped otherwise.
Id check(hid_t id, const std::string& file, const std::string& what);
void check(herr_t rc, const std::string& file, const std::string& what);

// Variable-length UTF-8 string type.
Id vlen_utf8();

// Attributes on an object (file root, group or dataset).
void write_string_attr(hid_t obj, const std::string& name, const std::string& value,
                       const std::string& file);
void write_int_attr(hid_t obj, const std::string& name, int value, const std::string& file);
bool has_attr(hid_t obj, const std::string& name);
// Reads fixed or variable-length string attributes (h5py writes either).
std::string read_string_attr(hid_t obj, const std::string& name, const std::string& file);
int64_t read_int_attr(hid_t obj, const std::string& name, const std::string& file);

// 1-D datasets.
int64_t dataset_length(hid_t dataset, const std::string& file, const std::string& name);
// Reads a whole 1-D dataset of a numeric type converted to `mem_type`.
template <typename T>
std::vector<T> read_all(hid_t dataset, hid_t mem_type, const std::string& file,
                        const std::string& name) {
  std::vector<T> out(static_cast<size_t>(dataset_length(dataset, file, name)));
  if (!out.empty()) {
    check(H5Dread(dataset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.data()), file,
          "cannot read " + name);
  }
  return out;
}
// Reads strings [start, start+count) of a vlen-string dataset.
std::vector<std::string> read_strings(hid_t dataset, int64_t start, int64_t count,
                                      const std::string& file, const std::string& name);
// Writes a contiguous 1-D dataset (the small indexes, written once at commit).
void write_dataset(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type,
                   const void* data, int64_t n, const std::string& file);
void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values,
                   const std::string& file);

// True when every group on `path` and the link itself exist (H5Lexists alone fails, rather than
// answering false, when an intermediate group is missing).
bool link_exists(hid_t loc, const std::string& path);
// Opens a dataset; InputError naming the file when it is missing (an incomplete corpus).
Id open_dataset(hid_t file, const std::string& path, const std::string& filename);
// The "format" attribute of an HDF5 file's root ("chorus-lyrics", "chorus-pianoroll", ...);
// InputError naming the file when it is missing, unreadable or not HDF5.
std::string file_format(const std::string& path);
// Opens a Chorus corpus file read-only and checks its "format" attribute and that its "version"
// is in [min_version, max_version] (stored in *version when given). File locking is off:
// corpora are renamed into place complete and never modified, and cluster file systems without
// flock would refuse the open (docs/design.md "HDF5 access"). `what` names the kind ("lyrics
// corpus"), `prepare` the command that makes one; InputError naming the file otherwise.
Id open_corpus(const std::string& path, const std::string& format, int64_t min_version,
               int64_t max_version, const std::string& what, const std::string& prepare,
               int64_t* version = nullptr);
// The current UTC time as ISO 8601 ("2025-01-31T12:00:00Z"), for "created" attributes.
std::string iso_now();

}  // namespace chorus::h5
