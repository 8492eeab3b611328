#include "sandbox/base/error.h"

#include <cstring>

namespace safeinstall {

std::string Error::message() const {
  std::string text = step;
  if (err != 0) {
    text += ": ";
    text += std::strerror(err);
    text += " (";
    text += errno_name(err);
    text += ")";
  }
  if (!hint.empty()) {
    text += "\n  hint: ";
    text += hint;
  }
  return text;
}

const char* errno_name(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "E?";
}

}  // namespace safeinstall
