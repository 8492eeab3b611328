#include "sandbox/confine/capabilities.h"

#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include <memory>
#include <string>

namespace safeinstall::sandbox {
namespace {

struct CapFree {
  void operator()(cap_t caps) const { cap_free(caps); }
};
using CapHandle = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

Result<> lock_securebits() {
  constexpr unsigned kBits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                             SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                             SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
  if (cap_set_secbits(kBits) != 0) return sys_error("lock securebits");
  return {};
}

Result<> empty_bounding_set() {
  for (int cap = 0; cap < static_cast<int>(cap_max_bits()); ++cap) {
    if (cap_drop_bound(static_cast<cap_value_t>(cap)) != 0 && errno != EINVAL)
      return sys_error("drop capability " + std::to_string(cap) + " from the bounding set");
  }
  return {};
}

Result<> clear_ambient_set() {
  if (cap_reset_ambient() != 0 && errno != EINVAL) return sys_error("clear ambient capabilities");
  return {};
}

Result<> clear_process_sets() {
  CapHandle none(cap_init());
  if (!none) return sys_error("allocate an empty capability set");
  if (cap_set_proc(none.get()) != 0) return sys_error("clear capabilities");
  return {};
}

Result<> set_no_new_privs() {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return sys_error("set no_new_privs");
  return {};
}

}  // namespace

Result<> drop_all_privileges() {
  // Order matters: securebits and the bounding set need CAP_SETPCAP, which the last step removes.
  if (auto r = lock_securebits(); !r) return r;
  if (auto r = empty_bounding_set(); !r) return r;
  if (auto r = clear_ambient_set(); !r) return r;
  if (auto r = clear_process_sets(); !r) return r;
  return set_no_new_privs();
}

}  // namespace safeinstall::sandbox
