#include <catch2/catch.hpp>
#include <random>
#include <regex>

#include "runner/record/redact.h"

using safeinstall::runner::redact;
using safeinstall::runner::redact_argv;

TEST_CASE("redact: passwords in URLs") {
  CHECK(redact("https://alice:s3cret@registry.example/simple") ==
        "https://alice:***@registry.example/simple");
  CHECK(redact("https://registry.example/simple") == "https://registry.example/simple");
}

TEST_CASE("redact: tokens recognisable by shape") {
  CHECK(redact("ghp_abcdefghijklmnopqrstuvwxyz0123") == "***");
  CHECK(redact("key AKIAABCDEFGHIJKLMNOP here") == "key *** here");
  CHECK(redact("npm_abcdefghijklmnopqrstuvwxyz0123") == "***");
}

TEST_CASE("redact: secret assignments and flags") {
  CHECK(redact("--token=abc123") == "--token=***");
  CHECK(redact("NPM_TOKEN=abc") == "NPM_TOKEN=***");
  CHECK(redact("//registry.npmjs.org/:_authToken=abc") == "//registry.npmjs.org/:_authToken=***");
  CHECK(redact_argv({"npm", "login", "--password", "hunter2", "--user", "bob"}) ==
        std::vector<std::string>{"npm", "login", "--password", "***", "--user", "bob"});
}

TEST_CASE("redact: ordinary arguments are left alone") {
  std::vector<std::string> argv{"npm", "ci", "--ignore-scripts", "node_modules/.bin/tsc"};
  CHECK(redact_argv(argv) == argv);
}

TEST_CASE("redact: assignments after delimiters, the last secret word of a name wins") {
  CHECK(redact("a=1&password=hunter2&b=2") == "a=1&password=***&b=2");
  CHECK(redact("x;API-KEY: abc,y") == "x;API-KEY: ***,y");
  CHECK(redact("a_token:b_password=c") == "a_token:b_password=***");
  CHECK(redact("token = abc def") == "token = *** def");
  CHECK(redact("?private_key=k?x") == "?private_key=***");
  CHECK(redact("mytoken") == "mytoken");
  CHECK(redact("x=token=abc") == "x=token=abc");  // '=' does not start a name
}

TEST_CASE("redact: JSON web tokens and URL passwords among other text") {
  CHECK(redact("Bearer eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4") == "Bearer ***");
  CHECK(redact("eyJhbGciOiJIUzI1.eyJzdWIiOi") == "eyJhbGciOiJIUzI1.eyJzdWIiOi");
  CHECK(redact("git+ssh://git:pw@host/x git://a:b@c") == "git+ssh://git:***@host/x git://a:***@c");
  CHECK(redact("1x://u:p@h") == "1x://u:***@h");
}

namespace {

// The regular expressions redact() was first written with: its behaviour, kept as the
// reference the linear scanners are compared with on short inputs.
std::string reference_redact(const std::string& text) {
  static const std::regex url(R"(([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:)[^@\s/]+@)");
  static const std::regex tokens(
      R"((gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|npm_[A-Za-z0-9]{20,}|glpat-[A-Za-z0-9_-]{16,}|xox[abposr]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|ASIA[0-9A-Z]{16}|sk-[A-Za-z0-9_-]{20,}|pypi-[A-Za-z0-9_-]{20,}|eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}))");
  static const std::regex assignment(
      R"(((?:^|[\s;,&?])-{0,2}[A-Za-z0-9_.:/-]*(?:token|password|passwd|secret|apikey|api[_-]key|auth|credential|private[_-]key)[A-Za-z0-9_-]*\s*[=:]\s*)[^\s;,&]+)",
      std::regex::icase);
  std::string out = std::regex_replace(text, url, "$1***@");
  out = std::regex_replace(out, tokens, "***");
  return std::regex_replace(out, assignment, "$1***");
}

bool reference_is_secret_flag(const std::string& arg) {
  static const std::regex flag(
      R"(--?[A-Za-z0-9_-]*(token|password|passwd|secret|api-?key|auth|credential)[A-Za-z0-9_-]*)",
      std::regex::icase);
  return std::regex_match(arg, flag);
}

// Short strings built from the pieces the rules look for, in any order.
std::string random_text(std::mt19937& random) {
  static const std::vector<std::string> pieces{
      "a",         "Z",           "0",           "_",          "-",          ".",
      ":",         "/",           "@",           " ",          "\t",         ";",
      ",",         "&",           "?",           "=",          "+",          "token",
      "TOKEN",     "Auth",        "password",    "passwd",     "api_key",    "api-key",
      "apikey",    "private-key", "secret",      "credential", "https://",   "://",
      "eyJ",       "ghp_",        "npm_",        "AKIA",       "ASIA",       "sk-",
      "xoxb-",     "glpat-",      "github_pat_", "pypi-",      "abcdefghij", "ABCDEFGHIJKLMNOP",
      "0123456789"};
  std::uniform_int_distribution<std::size_t> count(1, 24);
  std::uniform_int_distribution<std::size_t> pick(0, pieces.size() - 1);
  std::string text;
  for (std::size_t n = count(random); n > 0; --n) text += pieces[pick(random)];
  return text;
}

}  // namespace

TEST_CASE("redact: the scanners behave as the regular expressions on random text") {
  std::mt19937 random(20240611);
  for (int i = 0; i < 20000; ++i) {
    std::string text = random_text(random);
    INFO("text: " << text);
    REQUIRE(redact(text) == reference_redact(text));
    bool flag = redact_argv({text, "next"})[1] == "***";
    REQUIRE(flag == reference_is_secret_flag(text));
  }
}

TEST_CASE("redact: megabytes of crafted text are redacted in one pass") {
  // Each of these made the regular expressions backtrack over the whole input at every
  // position. The assertions are on the output; the test finishing is the point.
  constexpr std::size_t kSize = 4 << 20;
  auto repeat = [](const std::string& piece, std::size_t size) {
    std::string text;
    while (text.size() < size) text += piece;
    return text;
  };
  const std::string names = repeat("a", kSize);
  CHECK(redact(names) == names);
  const std::string words = repeat("token", kSize);
  CHECK(redact(words) == words);
  const std::string jwt_heads = repeat("eyJ", kSize);
  CHECK(redact(jwt_heads) == jwt_heads);
  const std::string schemes = repeat("x://u", kSize);
  CHECK(redact(schemes) == schemes);
  const std::string spaces = "token" + repeat(" ", kSize) + ";";
  CHECK(redact(spaces) == spaces);
  const std::string broken_jwts = repeat("eyJ" + std::string(12, 'a') + ".bbbbb;", kSize);
  CHECK(redact(broken_jwts) == broken_jwts);
  // One real secret at the end of the long name is still found.
  CHECK(redact(names + "_token=x") == names + "_token=***");
  CHECK(redact(words + "=x") == words + "=***");
  CHECK(redact_argv({"--" + words, "x"})[1] == "***");
}
