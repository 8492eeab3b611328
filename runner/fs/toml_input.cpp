#include "runner/fs/toml_input.h"

namespace safeinstall::runner {
namespace {

enum class Where { outside, comment, basic, literal, multiline_basic, multiline_literal };

bool starts(std::string_view text, std::size_t at, std::string_view what) {
  return text.substr(at, what.size()) == what;
}

}  // namespace

std::string toml_input(std::string_view text) {
  std::string out(text);
  Where where = Where::outside;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    switch (where) {
      case Where::outside:
      case Where::comment:
        if (static_cast<unsigned char>(c) >= 0x80) {
          out[i] = '?';
        } else if (where == Where::comment) {
          if (c == '\n') where = Where::outside;
        } else if (c == '#') {
          where = Where::comment;
        } else if (starts(text, i, "\"\"\"")) {
          where = Where::multiline_basic;
          i += 2;
        } else if (starts(text, i, "'''")) {
          where = Where::multiline_literal;
          i += 2;
        } else if (c == '"') {
          where = Where::basic;
        } else if (c == '\'') {
          where = Where::literal;
        }
        break;
      case Where::basic:
        if (c == '\\')
          ++i;
        else if (c == '"' || c == '\n')
          where = Where::outside;
        break;
      case Where::literal:
        if (c == '\'' || c == '\n') where = Where::outside;
        break;
      case Where::multiline_basic:
        if (c == '\\') {
          ++i;
        } else if (starts(text, i, "\"\"\"")) {
          where = Where::outside;
          i += 2;
        }
        break;
      case Where::multiline_literal:
        if (starts(text, i, "'''")) {
          where = Where::outside;
          i += 2;
        }
        break;
    }
  }
  return out;
}

}  // namespace safeinstall::runner
