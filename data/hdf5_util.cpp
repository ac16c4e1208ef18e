// RAII ids and attribute/dataset helpers over the HDF5 C API (serial HDF5 1.10).
// Invariant: no HDF5 id leaks on an exception path, and no HDF5 failure passes silently:
// each one throws with the file name, since the library's own stack printing is off.
#include "data/hdf5_util.h"

#include <chrono>
#include <ctime>
#include <stdexcept>

#include <sys/stat.h>

#include "data/errors.h"

namespace chorus::h5 {

void quiet_errors() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

Id& Id::operator=(Id&& o) noexcept {
  if (this != &o) {
    reset();
    id_ = o.id_;
    o.id_ = -1;
  }
  return *this;
}

void Id::reset() {
  if (id_ < 0) return;
  switch (H5Iget_type(id_)) {
    case H5I_FILE: H5Fclose(id_); break;
    case H5I_GROUP: H5Gclose(id_); break;
    case H5I_DATASET: H5Dclose(id_); break;
    case H5I_DATASPACE: H5Sclose(id_); break;
    case H5I_DATATYPE: H5Tclose(id_); break;
    case H5I_ATTR: H5Aclose(id_); break;
    case H5I_GENPROP_LST: H5Pclose(id_); break;
    default: break;
  }
  id_ = -1;
}

Id check(hid_t id, const std::string& file, const std::string& what) {
  if (id < 0) throw std::runtime_error(file + ": HDF5: " + what);
  return Id(id);
}

void check(herr_t rc, const std::string& file, const std::string& what) {
  if (rc < 0) throw std::runtime_error(file + ": HDF5: " + what);
}

Id vlen_utf8() {
  Id t(H5Tcopy(H5T_C_S1));
  H5Tset_size(t.get(), H5T_VARIABLE);
  H5Tset_cset(t.get(), H5T_CSET_UTF8);
  return t;
}

void write_string_attr(hid_t obj, const std::string& name, const std::string& value,
                       const std::string& file) {
  Id type = vlen_utf8();
  Id space = check(H5Screate(H5S_SCALAR), file, "H5Screate");
  Id attr = check(H5Acreate2(obj, name.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                  file, "cannot create attribute " + name);
  const char* p = value.c_str();
  check(H5Awrite(attr.get(), type.get(), &p), file, "cannot write attribute " + name);
}

void write_int_attr(hid_t obj, const std::string& name, int value, const std::string& file) {
  Id space = check(H5Screate(H5S_SCALAR), file, "H5Screate");
  Id attr = check(H5Acreate2(obj, name.c_str(), H5T_STD_I32LE, space.get(), H5P_DEFAULT,
                             H5P_DEFAULT),
                  file, "cannot create attribute " + name);
  check(H5Awrite(attr.get(), H5T_NATIVE_INT, &value), file, "cannot write attribute " + name);
}

bool has_attr(hid_t obj, const std::string& name) { return H5Aexists(obj, name.c_str()) > 0; }

std::string read_string_attr(hid_t obj, const std::string& name, const std::string& file) {
  Id attr = check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), file, "cannot open attribute " + name);
  Id type = check(H5Aget_type(attr.get()), file, "attribute type " + name);
  if (H5Tget_class(type.get()) != H5T_STRING) {
    throw std::runtime_error(file + ": attribute " + name + " is not a string");
  }
  if (H5Tis_variable_str(type.get()) > 0) {
    Id mem = vlen_utf8();
    char* p = nullptr;
    check(H5Aread(attr.get(), mem.get(), &p), file, "cannot read attribute " + name);
    std::string out = p ? p : "";
    H5free_memory(p);
    return out;
  }
  const size_t size = H5Tget_size(type.get());
  std::string buf(size, '\0');
  check(H5Aread(attr.get(), type.get(), buf.data()), file, "cannot read attribute " + name);
  return buf.substr(0, buf.find('\0'));
}

int64_t read_int_attr(hid_t obj, const std::string& name, const std::string& file) {
  Id attr = check(H5Aopen(obj, name.c_str(), H5P_DEFAULT), file, "cannot open attribute " + name);
  Id type = check(H5Aget_type(attr.get()), file, "attribute type " + name);
  if (H5Tget_class(type.get()) != H5T_INTEGER) {
    throw std::runtime_error(file + ": attribute " + name + " is not an integer");
  }
  int64_t v = 0;
  check(H5Aread(attr.get(), H5T_NATIVE_INT64, &v), file, "cannot read attribute " + name);
  return v;
}

int64_t dataset_length(hid_t dataset, const std::string& file, const std::string& name) {
  Id space = check(H5Dget_space(dataset), file, "dataspace of " + name);
  if (H5Sget_simple_extent_ndims(space.get()) != 1) {
    throw std::runtime_error(file + ": " + name + " is not one-dimensional");
  }
  hsize_t n = 0;
  H5Sget_simple_extent_dims(space.get(), &n, nullptr);
  return static_cast<int64_t>(n);
}

std::vector<std::string> read_strings(hid_t dataset, int64_t start, int64_t count,
                                      const std::string& file, const std::string& name) {
  std::vector<std::string> out;
  if (count <= 0) return out;
  Id type = vlen_utf8();
  Id fspace = check(H5Dget_space(dataset), file, "dataspace of " + name);
  hsize_t off = static_cast<hsize_t>(start), cnt = static_cast<hsize_t>(count);
  check(H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, &off, nullptr, &cnt, nullptr), file,
        "selection in " + name);
  Id mspace = check(H5Screate_simple(1, &cnt, nullptr), file, "H5Screate_simple");
  std::vector<char*> ptrs(cnt, nullptr);
  check(H5Dread(dataset, type.get(), mspace.get(), fspace.get(), H5P_DEFAULT, ptrs.data()), file,
        "cannot read " + name);
  out.reserve(cnt);
  for (char* p : ptrs) out.emplace_back(p ? p : "");
  H5Dvlen_reclaim(type.get(), mspace.get(), H5P_DEFAULT, ptrs.data());
  return out;
}

void write_dataset(hid_t loc, const std::string& name, hid_t file_type, hid_t mem_type,
                   const void* data, int64_t n, const std::string& file) {
  hsize_t dims = static_cast<hsize_t>(n);
  Id space = check(H5Screate_simple(1, &dims, nullptr), file, "H5Screate_simple");
  Id ds = check(H5Dcreate2(loc, name.c_str(), file_type, space.get(), H5P_DEFAULT, H5P_DEFAULT,
                           H5P_DEFAULT),
                file, "cannot create dataset " + name);
  if (n > 0) {
    check(H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), file,
          "cannot write dataset " + name);
  }
}

void write_strings(hid_t loc, const std::string& name, const std::vector<std::string>& values,
                   const std::string& file) {
  std::vector<const char*> ptrs;
  ptrs.reserve(values.size());
  for (const auto& v : values) ptrs.push_back(v.c_str());
  Id type = vlen_utf8();
  write_dataset(loc, name, type.get(), type.get(), ptrs.data(), static_cast<int64_t>(ptrs.size()),
                file);
}

bool link_exists(hid_t loc, const std::string& path) {
  for (size_t pos = path.find('/');; pos = path.find('/', pos + 1)) {
    if (H5Lexists(loc, path.substr(0, pos).c_str(), H5P_DEFAULT) <= 0) return false;
    if (pos == std::string::npos) return true;
  }
}

Id open_dataset(hid_t file, const std::string& path, const std::string& filename) {
  if (!link_exists(file, path)) {
    throw InputError(filename + ": missing dataset /" + path +
                     " (incomplete corpus; re-run chorus prepare)");
  }
  return check(H5Dopen2(file, path.c_str(), H5P_DEFAULT), filename, "cannot open /" + path);
}

std::string file_format(const std::string& path) {
  quiet_errors();
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw InputError(path + ": not an HDF5 corpus file (make one with chorus prepare)");
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl));
  H5Pclose(fapl);
  if (file.get() < 0) throw InputError(path + ": cannot open as HDF5");
  if (!has_attr(file.get(), "format")) throw InputError(path + ": HDF5 file without a format attribute: not a Chorus corpus");
  return read_string_attr(file.get(), "format", path);
}

Id open_corpus(const std::string& path, const std::string& format, int64_t min_version,
               int64_t max_version, const std::string& what, const std::string& prepare,
               int64_t* version) {
  quiet_errors();
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    throw InputError(path + ": " + what + " not found (create it with " + prepare + ")");
  Id fapl = check(H5Pcreate(H5P_FILE_ACCESS), path, "H5Pcreate");
  H5Pset_file_locking(fapl.get(), /*use_file_locking=*/false, /*ignore_when_disabled=*/true);
  if (H5Fis_hdf5(path.c_str()) <= 0) throw InputError(path + ": not an HDF5 file");
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, fapl.get()));
  if (!file.valid()) throw InputError(path + ": cannot open HDF5 file");
  const std::string hint = "; was written by another program or version; re-run " + prepare;
  if (!has_attr(file.get(), "format"))
    throw InputError(path + ": no \"format\" attribute, not a Chorus " + what + hint);
  const std::string found = read_string_attr(file.get(), "format", path);
  if (found != format) {
    const std::string kind = found == "chorus-lyrics"      ? "; this is a lyrics corpus"
                             : found == "chorus-pianoroll" ? "; this is a piano-roll corpus"
                                                           : "";
    throw InputError(path + ": format is \"" + found + "\", expected \"" + format + "\"" + kind +
                     hint);
  }
  const int64_t found_version =
      has_attr(file.get(), "version") ? read_int_attr(file.get(), "version", path) : -1;
  if (found_version < min_version || found_version > max_version) {
    const std::string reads = min_version == max_version
                                  ? "version " + std::to_string(max_version)
                                  : "versions " + std::to_string(min_version) + " to " +
                                        std::to_string(max_version);
    throw InputError(path + ": format version " + std::to_string(found_version) +
                     ", this Chorus reads " + reads + hint);
  }
  if (version) *version = found_version;
  return file;
}

std::string iso_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace chorus::h5
