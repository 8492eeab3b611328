// Installation and packaging as a user meets them: `cmake --install` and `cpack -G DEB` from
// the build directory, and the bash, zsh and fish completions in real shells.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "tests/integration/harness.h"

using namespace safeinstall::test;
namespace fs = std::filesystem;

namespace {

RunResult run_logged(const std::vector<std::string>& argv, RunOptions options = {}) {
  options.timeout = std::chrono::milliseconds(90000);
  auto result = run(argv, options);
  UNSCOPED_INFO(Catch::Detail::stringify(argv)
                << "\nexit " << result.exit_code << "\nstdout: " << result.out.substr(0, 4000)
                << "\nstderr: " << result.err.substr(0, 4000));
  return result;
}

std::string file_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The long options `safeinstall --help` lists, "--project" etc.
std::vector<std::string> help_options(const std::string& binary) {
  auto help = run_logged({binary, "--help"});
  std::vector<std::string> options;
  std::regex line("^\\s+(?:-\\w, ?)?(--[a-z][a-z-]*)");
  std::istringstream in(help.out);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (std::regex_search(l, m, line)) options.push_back(m[1]);
  }
  return options;
}

// roff writes every '-' of an option as "\-".
std::string roff_option(const std::string& option) {
  return std::regex_replace(option, std::regex("-"), "\\-");
}

// `completions SHELL` written to a file in `dir`.
std::string completion_file(const TempDir& dir, const std::string& shell) {
  auto script = run_logged({SAFEINSTALL_BINARY, "completions", shell});
  REQUIRE(script.exit_code == 0);
  std::string file = dir.path() + "/completion." + shell;
  std::ofstream(file) << script.out;
  return file;
}

// COMPREPLY of bash's _safeinstall for the words given, the last being completed.
std::vector<std::string> bash_complete(const std::string& script,
                                       const std::vector<std::string>& words) {
  std::string array;
  for (const auto& w : words) array += " '" + w + "'";
  std::string program = "source '" + script + "'; COMP_WORDS=(" + array +
                        "); COMP_CWORD=" + std::to_string(words.size() - 1) +
                        "; _safeinstall; printf '%s\\n' \"${COMPREPLY[@]}\"";
  auto result = run_logged({"bash", "--norc", "--noprofile", "-c", program});
  REQUIRE(result.exit_code == 0);
  std::vector<std::string> replies;
  std::istringstream in(result.out);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) replies.push_back(l);
  return replies;
}

bool has(const std::vector<std::string>& list, const std::string& value) {
  return std::ranges::find(list, value) != list.end();
}

}  // namespace

TEST_CASE("cmake --install: stripped binary, profiles, man page and completions", "[packaging]") {
  TempDir prefix("si-prefix");
  auto installed = run_logged(
      {SAFEINSTALL_CMAKE, "--install", SAFEINSTALL_BUILD_DIR, "--prefix", prefix.path()});
  REQUIRE(installed.exit_code == 0);
  fs::path root = prefix.path();

  std::string binary = (root / "bin/safeinstall").string();
  REQUIRE(fs::exists(binary));
  auto sections = run_logged({"readelf", "-S", "-W", binary});
  REQUIRE(sections.exit_code == 0);
  CHECK(sections.out.find(" .text ") != std::string::npos);
  CHECK(sections.out.find(".debug_info") == std::string::npos);
  CHECK(sections.out.find(".symtab") == std::string::npos);
  CHECK(fs::file_size(binary) < fs::file_size(SAFEINSTALL_BINARY));

  for (const auto& entry : fs::directory_iterator(SAFEINSTALL_PROFILES_DIR)) {
    auto copy = root / "share/safeinstall/profiles" / entry.path().filename();
    INFO(copy);
    REQUIRE(fs::exists(copy));
    CHECK(file_text(copy) == file_text(entry.path()));
  }
  // The installed binary reads the installed profiles.
  RunOptions clean;
  clean.inherit_env = false;
  clean.env_overrides = {"PATH=/usr/bin:/bin", "HOME=" + prefix.path()};
  auto profiles = run_logged({binary, "profiles"}, clean);
  CHECK(profiles.exit_code == 0);
  CHECK(profiles.out.find("    from:    " +
                          (root / "share/safeinstall/profiles/npm.toml").string()) !=
        std::string::npos);

  // Gzipped, as Debian policy asks; `gzip -n`: no name or time stamp in the header.
  CHECK_FALSE(fs::exists(root / "share/man/man1/safeinstall.1"));
  auto man = root / "share/man/man1/safeinstall.1.gz";
  REQUIRE(fs::exists(man));
  std::string compressed = file_text(man);
  REQUIRE(compressed.size() > 10);
  CHECK(compressed.substr(0, 2) == "\x1f\x8b");
  CHECK((static_cast<unsigned char>(compressed[3]) & 0x08) == 0);  // FNAME unset
  CHECK(compressed.substr(4, 4) == std::string(4, '\0'));          // MTIME 0
  auto unzipped = run_logged({"gzip", "-dc", man.string()});
  REQUIRE(unzipped.exit_code == 0);
  std::string page = unzipped.out;
  CHECK(page.find(".TH SAFEINSTALL \"1\"") != std::string::npos);
  auto options = help_options(binary);
  CHECK(options.size() > 20);
  for (const auto& option : options) {
    INFO(option);
    CHECK(page.find(roff_option(option)) != std::string::npos);
  }
  // safeinstall.h2m's sections, after those of --help.
  CHECK(page.find(".SH FILES") != std::string::npos);
  CHECK(page.find("SAFEINSTALL_PROFILE_DIR") != std::string::npos);

  std::pair<const char*, const char*> completions[] = {
      {"share/bash-completion/completions/safeinstall", "bash"},
      {"share/zsh/site-functions/_safeinstall", "zsh"},
      {"share/fish/vendor_completions.d/safeinstall.fish", "fish"}};
  for (const auto& [path, shell] : completions) {
    INFO(path);
    REQUIRE(fs::exists(root / path));
    CHECK(file_text(root / path) == run_logged({binary, "completions", shell}).out);
  }
}

TEST_CASE("cpack -G DEB: a .deb with the binary, profiles, man page and completions",
          "[packaging]") {
  TempDir out("si-cpack");
  auto packed =
      run_logged({SAFEINSTALL_CPACK, "-G", "DEB", "--config",
                  std::string(SAFEINSTALL_BUILD_DIR) + "/CPackConfig.cmake", "-B", out.path()});
  REQUIRE(packed.exit_code == 0);
  std::string deb;
  for (const auto& entry : fs::directory_iterator(out.path()))
    if (entry.path().extension() == ".deb") deb = entry.path().string();
  REQUIRE_FALSE(deb.empty());
  CHECK(fs::path(deb).filename().string().starts_with("safeinstall_"));

  auto contents = run_logged({"dpkg-deb", "-c", deb});
  REQUIRE(contents.exit_code == 0);
  CHECK(contents.out.find("./usr/share/man/man1/safeinstall.1\n") == std::string::npos);
  for (const char* path : {"./usr/bin/safeinstall", "./usr/share/man/man1/safeinstall.1.gz",
                           "./usr/share/bash-completion/completions/safeinstall",
                           "./usr/share/zsh/vendor-completions/_safeinstall",
                           "./usr/share/fish/vendor_completions.d/safeinstall.fish",
                           "./usr/share/safeinstall/profiles/base.toml",
                           "./usr/share/safeinstall/profiles/npm.toml"}) {
    INFO(path);
    CHECK(contents.out.find(std::string(path) + "\n") != std::string::npos);
  }
  auto fields =
      run_logged({"dpkg-deb", "-f", deb, "Package", "Depends", "Maintainer", "Description"});
  REQUIRE(fields.exit_code == 0);
  CHECK(fields.out.find("Package: safeinstall\n") != std::string::npos);
  CHECK_THAT(fields.out, Catch::Matches("[\\s\\S]*Depends: [^\n]*libc6[\\s\\S]*"));
  CHECK(fields.out.find("Maintainer: ") != std::string::npos);
  CHECK(fields.out.find("Description: run package managers as hostile code") != std::string::npos);
  CHECK(fields.out.find("\n Linux namespaces with a seccomp filter") != std::string::npos);
  CHECK(fields.out.find("\n ;") == std::string::npos);  // a CMake list would be joined by ;

  // Unpacked, the binary reads the profiles the package put beside it.
  std::string unpacked = out.path() + "/root";
  REQUIRE(run_logged({"dpkg-deb", "-x", deb, unpacked}).exit_code == 0);
  RunOptions clean;
  clean.inherit_env = false;
  clean.env_overrides = {"PATH=/usr/bin:/bin", "HOME=" + out.path()};
  auto profiles = run_logged({unpacked + "/usr/bin/safeinstall", "profiles"}, clean);
  CHECK(profiles.exit_code == 0);
  CHECK(profiles.out.find("    from:    " + unpacked +
                          "/usr/share/safeinstall/profiles/npm.toml") != std::string::npos);
}

TEST_CASE("bash completion: options, subcommands, profile names", "[packaging]") {
  TempDir dir("si-completion");
  auto script = completion_file(dir, "bash");
  auto flags = bash_complete(script, {"safeinstall", "--pro"});
  CHECK(has(flags, "--profile"));
  CHECK(has(flags, "--project"));
  CHECK(has(flags, "--promote-on-failure"));
  CHECK_FALSE(has(flags, "--report"));

  auto subcommands = bash_complete(script, {"safeinstall", "pro"});
  CHECK(has(subcommands, "profiles"));
  CHECK(has(subcommands, "promote"));

  // COMP_WORDS[0] is the binary the scripts ask for profile names.
  auto profiles = bash_complete(script, {SAFEINSTALL_BINARY, "--profile", "n"});
  CHECK(has(profiles, "npm"));
  CHECK(has(profiles, "nuget"));
  CHECK_FALSE(has(profiles, "pip"));
  auto shown =
      bash_complete(script, {SAFEINSTALL_BINARY, "--project", "/tmp", "profiles", "show", "ya"});
  CHECK(has(shown, "yarn"));
  CHECK(has(shown, "yarn-berry"));
  CHECK_FALSE(has(shown, "npm"));
  auto gc = bash_complete(script, {"safeinstall", "gc", "--"});
  CHECK(has(gc, "--all"));
  CHECK(has(gc, "--older-than"));
  CHECK_FALSE(has(gc, "--profile"));
  // A directory for --project, nothing invented for a number.
  auto dirs = bash_complete(script, {"safeinstall", "--project", "/us"});
  CHECK(has(dirs, "/usr"));
  CHECK(bash_complete(script, {"safeinstall", "--timeout", ""}).empty());
}

TEST_CASE("zsh and fish completions: the shells accept them and fish completes", "[packaging]") {
  TempDir dir("si-completion");
  if (which("zsh").empty()) {
    WARN("zsh is not installed: its completion is not checked");
  } else {
    auto script = completion_file(dir, "zsh");
    CHECK(run_logged({"zsh", "-n", script}).exit_code == 0);
    CHECK(file_text(script).starts_with("#compdef safeinstall\n"));
  }
  if (which("fish").empty()) {
    WARN("fish is not installed: its completion is not checked");
    return;
  }
  auto script = completion_file(dir, "fish");
  CHECK(run_logged({"fish", "--no-execute", script}).exit_code == 0);
  fs::create_directories(dir.path() + "/bin");
  fs::create_symlink(SAFEINSTALL_BINARY, dir.path() + "/bin/safeinstall");
  RunOptions options;
  options.env_overrides = {"HOME=" + dir.path(), "XDG_CONFIG_HOME=" + dir.path() + "/config",
                           "XDG_DATA_HOME=" + dir.path() + "/data",
                           "PATH=" + dir.path() + "/bin:/usr/bin:/bin"};
  auto complete = [&](const std::string& line) {
    auto result = run_logged(
        {"fish", "--no-config", "-c", "source '" + script + "'; complete -C '" + line + "'"},
        options);
    REQUIRE(result.exit_code == 0);
    return result.out;
  };
  CHECK(complete("safeinstall --pro").find("--profile\t") != std::string::npos);
  CHECK(complete("safeinstall --profile ").find("\nnpm\t") != std::string::npos);
  CHECK(complete("safeinstall pro").find("profiles\t") != std::string::npos);
  CHECK(complete("safeinstall profiles show ").find("cargo\n") != std::string::npos);
  auto gc = complete("safeinstall gc --");
  CHECK(gc.find("--older-than") != std::string::npos);
  CHECK(gc.find("--profile") == std::string::npos);
}
