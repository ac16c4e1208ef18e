// A MATLAB file's structure, checked before libmatio reads it. matio believes every size a file
// states: fuzzing found corrupt zlib streams and forged headers making it allocate gigabytes (a
// name length, a cell count) and leak. Internal to data/ (mat_reader.cpp calls it).
#pragma once
#include <cstdint>
#include <string>

namespace chorus {

// Throws InputError "PATH: ..." unless the file starts with a MAT-file v5 or v7.3 header and, for
// v5 (v7.3 is HDF5, which checks its own structure), its data elements tile the file exactly and
// each is a plain array, stored or compressed: compressed data must inflate as one intact zlib
// stream (checksum included) to at most `max_inflated` bytes, holding exactly one array; an array
// is numeric, logical or char (its data exactly as many elements as its dimensions say) or a cell
// array of such arrays, of at most `max_cells` cells, with at most 8 dimensions and a name of at
// most 63 bytes; every part fits inside its parent. Streams the file: memory stays small.
void check_mat_file(const std::string& path, int64_t max_cells, uint64_t max_inflated);

}  // namespace chorus
