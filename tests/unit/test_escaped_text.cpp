#include <catch2/catch.hpp>

#include "sandbox/base/escaped_text.h"

using safeinstall::sandbox::printable;

TEST_CASE("printable: terminal controls are escaped as \\DDD") {
  // A forged receipt line: return to the start of the line, clear it, draw a verdict.
  CHECK(printable("x\r\033[2Kverdict: promoted") == "x\\013\\027[2Kverdict: promoted");
  CHECK(printable("\033]0;title\007") == "\\027]0;title\\007");  // OSC ... BEL
  CHECK(printable("a\nb\tc") == "a\\010b\\009c");
  CHECK(printable(std::string("nul\0x", 5)) == "nul\\000x");
  CHECK(printable("del\x7f") == "del\\127");
}

TEST_CASE("printable: C1 controls, bidi controls and line separators are escaped") {
  CHECK(printable("\xc2\x9b"
                  "31m") == "\\194\\15531m");  // U+009B, CSI
  CHECK(printable("a\xe2\x80\xae"
                  "txt.exe") == "a\\226\\128\\174txt.exe");  // U+202E
  CHECK(printable("a\xe2\x80\xa8"
                  "b") == "a\\226\\128\\168b");             // U+2028
  CHECK(printable("\xe2\x81\xa6x") == "\\226\\129\\166x");  // U+2066
}

TEST_CASE("printable: bytes that are not UTF-8 are escaped one by one") {
  CHECK(printable("\xff\xfe") == "\\255\\254");
  CHECK(printable("a\xc3") == "a\\195");                           // cut short
  CHECK(printable("\xc0\xaf") == "\\192\\175");                    // overlong '/'
  CHECK(printable("\xed\xa0\x80") == "\\237\\160\\128");           // a surrogate
  CHECK(printable("\xf4\x90\x80\x80") == "\\244\\144\\128\\128");  // past U+10FFFF
  CHECK(printable("\xe2\x28\xa1") == "\\226(\\161");               // a bad continuation byte
}

TEST_CASE("printable: ordinary text passes unchanged") {
  for (const char* text : {"node_modules/x/index.js",
                           "caf\xc3\xa9 \xe2\x80\x94 \xc3\x97"
                           "3",
                           "\xf0\x9f\x93\xa6 pkg@1.0.0", "a\\046b", ""}) {
    CHECK(printable(text) == text);
  }
}
