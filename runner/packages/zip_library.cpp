#include "runner/packages/zip_library.h"

#include <dlfcn.h>

#include <string>

namespace safeinstall::runner {
namespace {

// The soname libzip-dev links against on Debian 12 (libzip4).
constexpr const char* kLibzip = "libzip.so.4";

template <typename Function>
bool resolve(void* handle, const char* name, Function& into) {
  into = reinterpret_cast<Function>(::dlsym(handle, name));
  return into != nullptr;
}

Result<ZipLibrary> load() {
  void* handle = ::dlopen(kLibzip, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return plain_error(std::string("loading ") + kLibzip + ": " + (why ? why : "not found"),
                       "install libzip4 (apt install libzip4) to import an OSV zip");
  }
  // Never closed: the table is used until the process ends.
  ZipLibrary zip;
  bool all = resolve(handle, "zip_open", zip.open) && resolve(handle, "zip_discard", zip.discard) &&
             resolve(handle, "zip_error_init_with_code", zip.error_init_with_code) &&
             resolve(handle, "zip_error_strerror", zip.error_strerror) &&
             resolve(handle, "zip_error_fini", zip.error_fini) &&
             resolve(handle, "zip_get_num_entries", zip.get_num_entries) &&
             resolve(handle, "zip_stat_index", zip.stat_index) &&
             resolve(handle, "zip_fopen_index", zip.fopen_index) &&
             resolve(handle, "zip_strerror", zip.strerror) &&
             resolve(handle, "zip_fread", zip.fread) && resolve(handle, "zip_fclose", zip.fclose);
  if (!all) return plain_error(std::string(kLibzip) + " lacks a function the OSV import needs");
  return zip;
}

}  // namespace

Result<const ZipLibrary*> load_zip_library() {
  static const Result<ZipLibrary> loaded = load();
  if (!loaded) return std::unexpected(loaded.error());
  return &*loaded;
}

}  // namespace safeinstall::runner
