#pragma once
// libzip, loaded when an OSV zip is imported rather than on every start: the library and the
// shared libcrypto it needs were relocated by every run of safeinstall, which reads a zip
// only in `db import`.

#include <zip.h>

#include "sandbox/base/error.h"

namespace safeinstall::runner {

// The functions of libzip the OSV import calls.
struct ZipLibrary {
  zip_t* (*open)(const char*, int, int*) = nullptr;
  void (*discard)(zip_t*) = nullptr;
  void (*error_init_with_code)(zip_error_t*, int) = nullptr;
  const char* (*error_strerror)(zip_error_t*) = nullptr;
  void (*error_fini)(zip_error_t*) = nullptr;
  zip_int64_t (*get_num_entries)(zip_t*, zip_flags_t) = nullptr;
  int (*stat_index)(zip_t*, zip_uint64_t, zip_flags_t, zip_stat_t*) = nullptr;
  zip_file_t* (*fopen_index)(zip_t*, zip_uint64_t, zip_flags_t) = nullptr;
  const char* (*strerror)(zip_t*) = nullptr;
  zip_int64_t (*fread)(zip_file_t*, void*, zip_uint64_t) = nullptr;
  int (*fclose)(zip_file_t*) = nullptr;
};

// Loads libzip once per process; later calls return the same table.
Result<const ZipLibrary*> load_zip_library();

}  // namespace safeinstall::runner
