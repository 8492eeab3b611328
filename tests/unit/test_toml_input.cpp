#include <toml++/toml.h>
#include <catch2/catch.hpp>

#include <string>

#include "runner/fs/toml_input.h"

using safeinstall::runner::toml_input;

namespace {

bool all_ascii(const std::string& text) {
  for (char c : text)
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  return true;
}

std::string value_of(const std::string& text, const char* key = "a") {
  auto table = toml::parse(toml_input(text));
  return table[key].value_or(std::string("<missing>"));
}

bool parse_fails(const std::string& text, int* line = nullptr) {
  try {
    (void)toml::parse(toml_input(text));
  } catch (const toml::parse_error& e) {
    if (line) *line = static_cast<int>(e.source().begin.line);
    return true;
  }
  return false;
}

std::string utf8(char32_t c) {
  std::string out;
  if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
  } else {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
  }
  out += static_cast<char>(0x80 | (c & 0x3F));
  return out;
}

}  // namespace

TEST_CASE("toml input: no byte above ASCII reaches the parser, in any context") {
  CHECK(toml_input("a = \"d\xc3\xafst/**\"\n") == "a = \"d\\u00EFst/**\"\n");
  CHECK(toml_input("a = 'x\xc2\xa1'\n") == "a = \"x\\u00A1\"\n");
  CHECK(toml_input("a = 'C:\\x'\n") == "a = 'C:\\x'\n");
  CHECK(toml_input("# caf\xc3\xa9\nb = 1 \xc2\xa1\n") == "# caf??\nb = 1 ??\n");
  CHECK(toml_input("s = \"open\n\xc2\xa1") == "s = \"open\n??");
  CHECK(toml_input("s = 'open\xc2\xa1\nb") == "s = 'open??\nb");
  CHECK(toml_input("s = \"\\\xc2\xa1\"") == "s = \"\\?\"");
  CHECK(toml_input("s = \"\xff\"") == "s = \"\x7f\"");
  CHECK(toml_input("s = \"\xf0\x9f\x93\xa6\"") == "s = \"\\U0001F4E6\"");
  // What the fuzzer found: a malformed value the parser reads on through a quoted key.
  std::string found("version = 1\001[pAc\377\037k\373\377\377\377\377\377", 23);
  found += std::string(7, '\0') + "rter\021eeoq\"r\315\242\001\011 eeoq\"\377\377\011I*\360\007e]";
  CHECK(all_ascii(toml_input(found)));
  CHECK(parse_fails(found));
}

TEST_CASE("toml input: strings keep their values, whichever quotes they use") {
  CHECK(value_of("a = \"Jos\xc3\xa9\" # \xc3\xa9t\xc3\xa9\n") == "Jos\xc3\xa9");
  CHECK(value_of("a = 'C:\\\\caf\xc3\xa9 \"q\"'\n") == "C:\\\\caf\xc3\xa9 \"q\"");
  CHECK(value_of("a = '''\nl\xc3\xa9\n\"\"\"\\'''\n") == "l\xc3\xa9\n\"\"\"\\");
  CHECK(value_of("a = '''x\xc3\xa9'''''\n") == "x\xc3\xa9''");
  CHECK(value_of("a = \"\"\"\n\xc2\xa1 \\\"\"\" \"\"\"\n") == "\xc2\xa1 \"\"\" ");
  CHECK(value_of("a = \"\xf0\x9f\x93\xa6 \\u00e9\"\n") == "\xf0\x9f\x93\xa6 \xc3\xa9");
  CHECK(value_of("[\"t\xc3\xa9\"]\na = 1\n", "t\xc3\xa9") == "<missing>");
  auto table = toml::parse(toml_input("[\"t\xc3\xa9\"]\nk = 'v\xc3\xa9'\n"));
  CHECK(table["t\xc3\xa9"]["k"].value_or(std::string()) == "v\xc3\xa9");
}

TEST_CASE("toml input: what TOML refuses is still refused, on its line") {
  int line = 0;
  CHECK(parse_fails("a =\xc2\xa1 1\n", &line));
  CHECK(line == 1);
  CHECK(parse_fails("a = 1\nb = \"\xff\"\n", &line));
  CHECK(line == 2);
  CHECK(parse_fails("a = 1\nb = 'x\xc3\n", &line));
  CHECK(line == 2);
  CHECK(parse_fails("a = 1\n\n\xc3\xa9 = 2\n", &line));
  CHECK(line == 3);
}

TEST_CASE("toml input: every character that once reached undefined behaviour, everywhere") {
  // TOML++ 3.3 asks is_non_ascii_horizontal_whitespace() about these; it has no answer
  // for most of them. Under the sanitizer build any one reaching it fails this test.
  for (char32_t c : {char32_t(0xA1), char32_t(0x362), char32_t(0x499), char32_t(0x1500),
                     char32_t(0x1D00), char32_t(0x3100), char32_t(0xFD00)}) {
    std::string ch = utf8(c);
    for (const std::string& doc :
         {"a = 1" + ch + "\n", "a = \"" + ch + "\"\n", "a = '" + ch + "'\n", ch + " = 1\n",
          "a = 1\001[x\"" + ch + "\"]\n", "a = [" + ch + "]\n", "a = '''" + ch + "\n",
          "a = { b = " + ch + " }\n"}) {
      INFO("U+" << std::hex << static_cast<unsigned>(c) << " in " << doc);
      CHECK(all_ascii(toml_input(doc)));
      (void)parse_fails(doc);
    }
  }
}
