// `safeinstall setup`: the marked block in a shell's rc file, written, rewritten and removed
// with every other byte of the file kept.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "runner/cli/cli.h"
#include "runner/setup/rc_block.h"
#include "runner/setup/shell_aliases.h"
#include "tests/unit/staging_test_support.h"

namespace {

using namespace safeinstall::runner;
using safeinstall::staging_test::read_file;
using safeinstall::staging_test::ScratchDir;
using safeinstall::staging_test::write_file;

const std::string kUserLines =
    "# my bashrc\nexport EDITOR=vim\nalias ll='ls -l'\n\n  PS1='\\u@\\h$ '   \n";

std::string framed(const std::string& block) {
  return std::string(kBlockBegin) + "\n" + block + std::string(kBlockEnd) + "\n";
}

}  // namespace

TEST_CASE("rc block: appended once, replaced in place, removed exactly", "[setup]") {
  auto once = with_block(kUserLines, "alias npm=a\n");
  REQUIRE(once);
  CHECK(*once == kUserLines + framed("alias npm=a\n"));
  auto twice = with_block(*once, "alias npm=a\n");
  REQUIRE(twice);
  CHECK(*twice == *once);
  // Lines the user adds after the block stay where they are when the block changes.
  auto later = *once + "export LATER=1\n";
  auto changed = with_block(later, "alias npm=b\n");
  REQUIRE(changed);
  CHECK(*changed == kUserLines + framed("alias npm=b\n") + "export LATER=1\n");
  auto removed = without_block(*changed);
  REQUIRE(removed);
  CHECK(*removed == kUserLines + "export LATER=1\n");
  auto nothing = without_block(kUserLines);
  REQUIRE(nothing);
  CHECK(*nothing == kUserLines);
}

TEST_CASE("rc block: a file without a final newline and an empty one", "[setup]") {
  auto block = with_block("export A=1", "x\n");
  REQUIRE(block);
  CHECK(*block == "export A=1\n" + framed("x\n"));
  auto empty = with_block("", "x\n");
  REQUIRE(empty);
  CHECK(*empty == framed("x\n"));
  auto gone = without_block(*empty);
  REQUIRE(gone);
  CHECK(gone->empty());
}

TEST_CASE("rc block: half a block is left alone with an error", "[setup]") {
  std::string begin_only = kUserLines + std::string(kBlockBegin) + "\nalias npm=a\n";
  CHECK_FALSE(with_block(begin_only, "x\n"));
  CHECK_FALSE(without_block(begin_only));
  std::string end_only = kUserLines + std::string(kBlockEnd) + "\n";
  CHECK_FALSE(without_block(end_only));
  // A marker that is only part of a line is not one.
  std::string quoted = "echo '" + std::string(kBlockBegin) + "'\n";
  auto kept = without_block(quoted);
  REQUIRE(kept);
  CHECK(*kept == quoted);
}

TEST_CASE("rc block: on disk, the user's file comes back byte for byte", "[setup]") {
  ScratchDir d("si-rc");
  std::string rc = d / ".bashrc";
  write_file(rc, kUserLines, 0640);
  auto written = write_block(rc, "alias npm=a\n");
  REQUIRE(written);
  CHECK(*written == RcChange::written);
  CHECK(read_file(rc) == kUserLines + framed("alias npm=a\n"));
  auto again = write_block(rc, "alias npm=a\n");
  REQUIRE(again);
  CHECK(*again == RcChange::unchanged);
  struct stat st {};
  REQUIRE(::stat(rc.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  auto removed = remove_block(rc, false);
  REQUIRE(removed);
  CHECK(*removed == RcChange::removed);
  CHECK(read_file(rc) == kUserLines);
  auto absent = remove_block(rc, false);
  REQUIRE(absent);
  CHECK(*absent == RcChange::absent);
}

TEST_CASE("rc block: a missing file is created, and a symlinked one edited behind the link",
          "[setup]") {
  ScratchDir d("si-rc-missing");
  std::string fish = d / "config/fish/conf.d/safeinstall.fish";
  REQUIRE(write_block(fish, "function npm\nend\n"));
  CHECK(read_file(fish) == framed("function npm\nend\n"));
  auto removed = remove_block(fish, true);
  REQUIRE(removed);
  CHECK(::access(fish.c_str(), F_OK) != 0);
  CHECK(remove_block(d / "never-there", false).value() == RcChange::absent);

  write_file(d / "dotfiles/bashrc", kUserLines);
  REQUIRE(::symlink((d / "dotfiles/bashrc").c_str(), (d / ".bashrc").c_str()) == 0);
  REQUIRE(write_block(d / ".bashrc", "alias npm=a\n"));
  struct stat st {};
  REQUIRE(::lstat((d / ".bashrc").c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(read_file(d / "dotfiles/bashrc") == kUserLines + framed("alias npm=a\n"));
  REQUIRE(remove_block(d / ".bashrc", false));
  CHECK(read_file(d / "dotfiles/bashrc") == kUserLines);
}

TEST_CASE("shell aliases: one per tool, quoted for the shell", "[setup]") {
  std::string bash = alias_block(Shell::bash, {"npm", "pip3"}, "/home/o'neil/shims");
  CHECK(bash.find("alias npm='/home/o'\\''neil/shims/npm'\n") != std::string::npos);
  CHECK(bash.find("alias pip3='/home/o'\\''neil/shims/pip3'\n") != std::string::npos);
  std::string fish = alias_block(Shell::fish, {"npm"}, "/home/o'neil/shims");
  CHECK(fish.find("function npm ") != std::string::npos);
  CHECK(fish.find("    '/home/o\\'neil/shims/npm' $argv\nend\n") != std::string::npos);
  ShellPlaces places{"/home/u", "", ""};
  CHECK(rc_file_of(Shell::bash, places) == "/home/u/.bashrc");
  CHECK(rc_file_of(Shell::zsh, places) == "/home/u/.zshrc");
  CHECK(rc_file_of(Shell::fish, places) == "/home/u/.config/fish/conf.d/safeinstall.fish");
  CHECK(rc_file_of(Shell::zsh, {"/home/u", "/x", "/z"}) == "/z/.zshrc");
  CHECK(shell_from("/usr/bin/zsh").value() == Shell::zsh);
  CHECK_FALSE(shell_from("/bin/tcsh"));
  CHECK_FALSE(shell_from(""));
}

namespace {

safeinstall::runner::CommandLine parse(std::vector<const char*> args) {
  args.insert(args.begin(), "safeinstall");
  return parse_command_line(static_cast<int>(args.size()), args.data());
}

}  // namespace

TEST_CASE("setup command line: a shell, --ci DIR, --remove, and nothing else", "[setup]") {
  auto aliases = parse({"setup", "--shell", "zsh"});
  REQUIRE(aliases.action == CommandLine::Action::Setup);
  CHECK(aliases.setup.shell == "zsh");
  CHECK_FALSE(aliases.setup.remove);
  auto ci = parse({"setup", "--ci", "/opt/shims", "--remove"});
  REQUIRE(ci.action == CommandLine::Action::Setup);
  CHECK(ci.setup.ci_dir == "/opt/shims");
  CHECK(ci.setup.remove);
  for (const auto& wrong : {std::vector<const char*>{"setup", "--shell", "tcsh"},
                            std::vector<const char*>{"setup", "--ci", "/x", "--shell", "bash"},
                            std::vector<const char*>{"setup", "extra"}}) {
    auto refused = parse(wrong);
    CHECK(refused.action == CommandLine::Action::Exit);
    CHECK(refused.exit_code == 125);
  }
  auto help = parse({"setup", "--help"});
  CHECK(help.exit_code == 0);
  CHECK(help.output.find("only installs run in the") != std::string::npos);
  // After `--`, setup is a command like any other.
  auto command = parse({"--", "setup"});
  CHECK(command.action == CommandLine::Action::Run);
}
