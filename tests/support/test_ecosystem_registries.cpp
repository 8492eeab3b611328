// The registries of ecosystem_registries.h: each real client (from Debian) installs from one
// in the world namespace, outside any sandbox, and runs the package's install-time code where
// its ecosystem has any. If a client could not install from these, every test built on them
// would prove nothing.
#include <catch2/catch.hpp>
#include <filesystem>

#include "tests/support/ecosystem_registries.h"
#include "tests/support/fake_internet.h"
#include "tests/support/registry_files.h"
#include "tests/support/run.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_skips.h"

using namespace safeinstall::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
using registry_files::read_file;
using registry_files::write_file;

namespace {

// argv in the world namespace, in `cwd`, with `env` added; logged for a failing check.
RunResult in_world(const FakeInternet& net, std::vector<std::string> argv, const fs::path& cwd,
                   std::vector<std::string> env) {
  RunOptions options;
  options.cwd = cwd.string();
  options.timeout = 90s;
  options.env_overrides = std::move(env);
  auto result = run(net.in_world(argv), options);
  UNSCOPED_INFO(argv[0] << " " << (argv.size() > 1 ? argv[1] : "") << ": exit " << result.exit_code
                        << "\n"
                        << result.out << result.err);
  return result;
}

bool contains(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

// The Debian client where both it and another (rustup's, pyenv's) are installed.
std::string debian_tool(const std::string& name) {
  std::string debian = "/usr/bin/" + name;
  return fs::exists(debian) ? debian : which(name);
}

}  // namespace

TEST_CASE("pip installs a wheel and an sdist from the fake PyPI, running setup.py",
          "[fake-internet][root][pip]") {
  SKIP_UNLESS_FAKE_INTERNET();
  SKIP_UNLESS_INSTALLED("/usr/bin/python3");
  if (run({"/usr/bin/python3", "-c", "import venv, ensurepip"}).exit_code != 0) {
    WARN("skipped: python3-venv is not installed (scripts/setup.sh installs it)");
    return;
  }
  FakeInternet net(SI_SINK_PATH);
  write_pypi_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "si-pure",
        .version = "1.0.0",
        .format = PypiPackage::Format::Wheel,
        .files = {{"si_pure/__init__.py", "VALUE = 'pure 1.0'\n"}}},
       {.name = "si-pure",
        .version = "1.2.0",
        .format = PypiPackage::Format::Wheel,
        .files = {{"si_pure/__init__.py", "VALUE = 'pure 1.2'\n"}}},
       {.name = "si_Hooked",
        .version = "0.3.0",
        .format = PypiPackage::Format::Sdist,
        .files = {{"si_hooked.py", "import si_pure\nVALUE = 'hooked+' + si_pure.VALUE\n"}},
        .requires_dist = {"si-pure>=1.0"},
        .setup_code = "import os, pathlib\n"
                      "pathlib.Path(os.environ['SI_MARKER']).write_text('setup.py ran')\n"}});
  auto simple = read_file(fs::path(net.registry_root()) / "simple/index.html");
  CHECK(contains(simple, "simple/si-hooked/"));
  CHECK(contains(simple, "simple/si-pure/"));

  TempDir scratch("si-pip");
  const fs::path venv = fs::path(scratch.path()) / "venv";
  REQUIRE(run({"/usr/bin/python3", "-m", "venv", venv.string()}).exit_code == 0);
  const std::string marker = scratch.path() + "/setup-ran";
  auto installed = in_world(
      net,
      {(venv / "bin/pip").string(), "install", "--index-url", "http://registry.test/simple/",
       "--trusted-host", "registry.test", "--no-build-isolation", "--no-cache-dir",
       "--disable-pip-version-check", "si-hooked"},
      scratch.path(), {"HOME=" + scratch.path(), "SI_MARKER=" + marker});
  REQUIRE(installed.exit_code == 0);
  CHECK(read_file(marker) == "setup.py ran");
  auto imported =
      run({(venv / "bin/python").string(), "-c", "import si_hooked; print(si_hooked.VALUE)"});
  CHECK(imported.out == "hooked+pure 1.2\n");
  auto log = net.log(FakeInternet::Log::Registry);
  CHECK(contains(log, "GET /simple/si-hooked/ in="));
  CHECK(contains(log, "GET /pypi/files/si_pure-1.2.0-py3-none-any.whl in="));
  CHECK(contains(log, "GET /pypi/files/si_hooked-0.3.0.tar.gz in="));
  CHECK(net.sink_log().empty());
}

TEST_CASE("go builds against modules from the fake GOPROXY", "[fake-internet][root][go]") {
  SKIP_UNLESS_FAKE_INTERNET();
  SKIP_UNLESS_INSTALLED("go");
  FakeInternet net(SI_SINK_PATH);
  // v1.1.0 imports a module whose path has an upper-case letter: escaped as !upper.
  write_go_proxy(
      net.registry_root(),
      {{.path = "example.test/greet",
        .version = "v1.0.0",
        .files = {{"greet.go", "package greet\n\nfunc Hello() string { return \"hello 1.0\" }\n"}}},
       {.path = "example.test/Upper",
        .version = "v0.1.0",
        .files = {{"upper.go", "package upper\n\nconst Name = \"upper\"\n"}}},
       {.path = "example.test/greet",
        .version = "v1.1.0",
        .files = {{"greet.go",
                   "package greet\n\nimport \"example.test/Upper\"\n\n"
                   "func Hello() string { return \"hello 1.1 \" + upper.Name }\n"}},
        .requires_modules = {{"example.test/Upper", "v0.1.0"}}}});
  CHECK(read_file(fs::path(net.registry_root()) / "go/example.test/greet/@v/list") ==
        "v1.0.0\nv1.1.0\n");
  CHECK(fs::exists(fs::path(net.registry_root()) / "go/example.test/!upper/@v/v0.1.0.zip"));

  TempDir scratch("si-go");
  const fs::path project = fs::path(scratch.path()) / "app";
  write_file(project / "go.mod",
             "module example.test/app\n\ngo 1.19\n\nrequire example.test/greet v1.1.0\n");
  write_file(project / "main.go",
             "package main\n\nimport (\n\t\"fmt\"\n\t\"example.test/greet\"\n)\n\n"
             "func main() { fmt.Println(greet.Hello()) }\n");
  auto built = in_world(
      net, {which("go"), "build", "-o", "app", "."}, project,
      {"HOME=" + scratch.path(), "GOPATH=" + scratch.path() + "/gopath",
       "GOMODCACHE=" + scratch.path() + "/gopath/pkg/mod", "GOCACHE=" + scratch.path() + "/gocache",
       "GOPROXY=http://registry.test/go", "GOSUMDB=off", "GOFLAGS=-mod=mod", "GOTOOLCHAIN=local"});
  REQUIRE(built.exit_code == 0);
  CHECK(run({(project / "app").string()}).out == "hello 1.1 upper\n");
  CHECK(contains(read_file(project / "go.sum"), "example.test/greet v1.1.0 h1:"));
  auto log = net.log(FakeInternet::Log::Registry);
  CHECK(contains(log, "GET /go/example.test/greet/@v/v1.1.0.zip in="));
  // Go sends the ! of the escaped path percent-encoded.
  CHECK(contains(log, "GET /go/example.test/%21upper/@v/v0.1.0.zip in="));
  CHECK(net.sink_log().empty());
}

TEST_CASE("composer installs from the fake repository - a plugin and the root's scripts run",
          "[fake-internet][root][composer]") {
  SKIP_UNLESS_FAKE_INTERNET();
  SKIP_UNLESS_INSTALLED("composer");
  FakeInternet net(SI_SINK_PATH);
  write_composer_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "si/base",
        .version = "1.0.0",
        .files = {{"src/Base.php",
                   "<?php\nnamespace Si\\Base;\nclass Base { const NAME = 'base'; }\n"}},
        .autoload_psr4 = {{"Si\\Base\\", "src/"}}},
       {.name = "si/greet",
        .version = "1.2.0",
        .files =
            {{"src/Greet.php",
              "<?php\nnamespace Si\\Greet;\nclass Greet {\n"
              "  public static function hello() { return 'hello ' . \\Si\\Base\\Base::NAME; }\n"
              "}\n"}},
        .require = {{"si/base", "^1.0"}},
        .autoload_psr4 = {{"Si\\Greet\\", "src/"}},
        .scripts = {{"post-autoload-dump", "php -r \"touch('dependency-script-ran');\""}}},
       // A dependency's code that does run at install: a plugin the root allows.
       {.name = "si/plugin",
        .version = "1.0.0",
        .files = {{"src/Plugin.php",
                   "<?php\nnamespace Si\\Plugin;\n"
                   "use Composer\\Composer; use Composer\\IO\\IOInterface;\n"
                   "class Plugin implements \\Composer\\Plugin\\PluginInterface {\n"
                   "  public function activate(Composer $c, IOInterface $io) {\n"
                   "    touch(getenv('SI_MARKER')); }\n"
                   "  public function deactivate(Composer $c, IOInterface $io) {}\n"
                   "  public function uninstall(Composer $c, IOInterface $io) {}\n"
                   "}\n"}},
        .require = {{"composer-plugin-api", "^2.0"}},
        .autoload_psr4 = {{"Si\\Plugin\\", "src/"}},
        .type = "composer-plugin",
        .extra = {{"class", "Si\\Plugin\\Plugin"}}}});

  TempDir scratch("si-composer");
  const fs::path project = fs::path(scratch.path()) / "app";
  write_file(project / "composer.json", R"({
    "name": "si/app",
    "repositories": [{"type": "composer", "url": "http://registry.test/composer"},
                     {"packagist.org": false}],
    "require": {"si/greet": "^1.0", "si/plugin": "^1.0"},
    "config": {"secure-http": false, "allow-plugins": {"si/plugin": true}},
    "scripts": {"post-autoload-dump": "php -r \"touch('root-script-ran');\""}
})");
  auto installed =
      in_world(net, {which("composer"), "install", "--no-interaction", "--no-progress"}, project,
               {"HOME=" + scratch.path(), "COMPOSER_HOME=" + scratch.path() + "/home",
                "COMPOSER_CACHE_DIR=" + scratch.path() + "/cache", "COMPOSER_ALLOW_SUPERUSER=1",
                "SI_MARKER=" + scratch.path() + "/plugin-ran"});
  REQUIRE(installed.exit_code == 0);
  CHECK(fs::exists(scratch.path() + "/plugin-ran"));
  auto hello =
      run({"php", "-r", "require 'vendor/autoload.php'; echo \\Si\\Greet\\Greet::hello();"},
          {.cwd = project.string()});
  CHECK(hello.out == "hello base");
  CHECK(fs::exists(project / "root-script-ran"));
  CHECK_FALSE(fs::exists(project / "dependency-script-ran"));
  CHECK(fs::exists(project / "vendor/si/greet/composer.json"));
  auto log = net.log(FakeInternet::Log::Registry);
  CHECK(contains(log, "GET /composer/packages.json in="));
  CHECK(contains(log, "GET /composer/dists/si/greet-1.2.0.zip in="));
  CHECK(net.sink_log().empty());
}

TEST_CASE("cargo builds crates from the fake sparse registry, running build.rs",
          "[fake-internet][root][cargo]") {
  SKIP_UNLESS_FAKE_INTERNET();
  SKIP_UNLESS_INSTALLED("cargo");
  FakeInternet net(SI_SINK_PATH);
  write_cargo_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "si-leaf",
        .version = "1.0.0",
        .files = {{"src/lib.rs", "pub fn leaf() -> &'static str { \"leaf\" }\n"}}},
       {.name = "si-hooked",
        .version = "1.0.0",
        .files = {{"src/lib.rs",
                   "pub fn hello() -> String { format!(\"hooked+{}\", si_leaf::leaf()) }\n"}},
        .dependencies = {{"si-leaf", "1.0"}},
        .build_rs = "fn main() {\n"
                    "    std::fs::write(std::env::var(\"SI_MARKER\").unwrap(), \"build.rs ran\")\n"
                    "        .unwrap();\n"
                    "}\n"}});
  CHECK(fs::exists(fs::path(net.registry_root()) / "cargo/index/si/-l/si-leaf"));

  TempDir scratch("si-cargo");
  const fs::path project = fs::path(scratch.path()) / "app";
  write_file(project / "Cargo.toml",
             "[package]\nname = \"app\"\nversion = \"0.1.0\"\nedition = \"2018\"\n\n"
             "[dependencies]\nsi-hooked = \"1.0\"\n");
  write_file(project / "src/main.rs", "fn main() { println!(\"{}\", si_hooked::hello()); }\n");
  write_file(project / ".cargo/config.toml",
             "[source.crates-io]\nreplace-with = \"fake\"\n\n"
             "[source.fake]\nregistry = \"sparse+http://registry.test/cargo/index/\"\n");
  const std::string marker = scratch.path() + "/build-rs-ran";
  auto built = in_world(net, {debian_tool("cargo"), "build"}, project,
                        {"HOME=" + scratch.path(), "CARGO_HOME=" + scratch.path() + "/cargo-home",
                         "RUSTC=" + debian_tool("rustc"), "CARGO_UNSTABLE_SPARSE_REGISTRY=true",
                         "RUSTC_BOOTSTRAP=1", "SI_MARKER=" + marker});
  REQUIRE(built.exit_code == 0);
  CHECK(read_file(marker) == "build.rs ran");
  CHECK(run({(project / "target/debug/app").string()}).out == "hooked+leaf\n");
  auto log = net.log(FakeInternet::Log::Registry);
  CHECK(contains(log, "GET /cargo/index/si/-h/si-hooked in="));
  CHECK(contains(log, "GET /cargo/crates/si-leaf/1.0.0.crate in="));
  CHECK(net.sink_log().empty());
}

TEST_CASE("gem and bundler install from the fake gem source, running extconf.rb",
          "[fake-internet][root][gem]") {
  SKIP_UNLESS_FAKE_INTERNET();
  SKIP_UNLESS_INSTALLED("gem");
  SKIP_UNLESS_INSTALLED("bundle");
  SKIP_UNLESS_INSTALLED("make");
  FakeInternet net(SI_SINK_PATH);
  write_gem_registry(
      net.registry_root(), "http://registry.test/",
      {{.name = "si-leaf", .version = "1.0.0", .files = {{"lib/si-leaf.rb", "SI_LEAF = 'leaf'\n"}}},
       {.name = "si-native",
        .version = "2.0.0",
        .files = {{"lib/si-native.rb", "require 'si-leaf'\nSI_NATIVE = 'native+' + SI_LEAF\n"}},
        .dependencies = {{"si-leaf", ">= 1.0"}},
        .extconf_rb = "File.write(ENV.fetch('SI_MARKER'), 'extconf ran')\n"
                      "File.write('Makefile', \"all:\\ninstall:\\nclean:\\n\")\n"}});
  CHECK(fs::exists(fs::path(net.registry_root()) / "gems/specs.4.8.gz"));

  TempDir scratch("si-gem");
  const fs::path gem_home = fs::path(scratch.path()) / "gem-home";
  auto installed = in_world(
      net,
      {which("gem"), "install", "--clear-sources", "--source", "http://registry.test/gems/",
       "--install-dir", gem_home.string(), "--no-document", "si-native"},
      scratch.path(), {"HOME=" + scratch.path(), "SI_MARKER=" + scratch.path() + "/gem-marker"});
  REQUIRE(installed.exit_code == 0);
  CHECK(read_file(scratch.path() + "/gem-marker") == "extconf ran");
  CHECK(fs::exists(gem_home / "gems/si-leaf-1.0.0/lib/si-leaf.rb"));
  auto log = net.log(FakeInternet::Log::Registry);
  CHECK(contains(log, "GET /gems/gems/si-native-2.0.0.gem in="));

  const fs::path project = fs::path(scratch.path()) / "app";
  write_file(project / "Gemfile", "source \"http://registry.test/gems/\"\ngem \"si-native\"\n");
  auto bundled = in_world(net, {which("bundle"), "install"}, project,
                          {"HOME=" + scratch.path(), "BUNDLE_PATH=" + scratch.path() + "/bundle",
                           "SI_MARKER=" + scratch.path() + "/bundle-marker"});
  REQUIRE(bundled.exit_code == 0);
  CHECK(read_file(scratch.path() + "/bundle-marker") == "extconf ran");
  CHECK(contains(read_file(project / "Gemfile.lock"), "si-native (2.0.0)"));
  auto required =
      in_world(net, {which("bundle"), "exec", "ruby", "-e", "require 'si-native'; print SI_NATIVE"},
               project, {"HOME=" + scratch.path(), "BUNDLE_PATH=" + scratch.path() + "/bundle"});
  CHECK(required.out == "native+leaf");
  CHECK(net.sink_log().empty());
}

TEST_CASE("every registry builder gives the same bytes for the same packages", "[registries]") {
  auto build = [](const std::string& root) {
    write_pypi_registry(
        root, "http://registry.test/",
        {{.name = "si-pure", .version = "1.0", .files = {{"si_pure.py", "x = 1\n"}}},
         {.name = "si-sdist",
          .version = "1.0",
          .format = PypiPackage::Format::Sdist,
          .files = {{"si_sdist.py", "y = 1\n"}},
          .setup_code = "print('hook')\n"}});
    write_cargo_registry(root, "http://registry.test/",
                         {{.name = "si-crate", .version = "0.1.0", .build_rs = "fn main() {}\n"}});
    write_go_proxy(
        root,
        {{.path = "example.test/m", .version = "v1.0.0", .files = {{"m.go", "package m\n"}}}});
    write_composer_registry(
        root, "http://registry.test/",
        {{.name = "si/c", .version = "1.0.0", .files = {{"src/C.php", "<?php\n"}}}});
    if (!which("gem").empty())
      write_gem_registry(
          root, "http://registry.test/",
          {{.name = "si-gem", .version = "1.0.0", .files = {{"lib/si-gem.rb", "\n"}}}});
  };
  TempDir first("si-registries"), second("si-registries");
  build(first.path());
  build(second.path());
  std::map<std::string, std::string> first_files, second_files;
  for (auto [dir, files] : {std::pair{&first, &first_files}, std::pair{&second, &second_files}}) {
    for (const auto& item : fs::recursive_directory_iterator(dir->path())) {
      if (item.is_regular_file())
        (*files)[fs::relative(item.path(), dir->path()).string()] = read_file(item.path());
    }
  }
  CHECK(first_files.size() >= 12);
  // `gem generate_index` gzips its spec indexes with the current time in the gzip header
  // (bytes 4-7, RFC 1952): two builds a second apart differ there and only there.
  auto without_gzip_mtime = [](const std::string& path, std::string bytes) {
    if (path.ends_with(".gz") && bytes.size() >= 10) bytes.replace(4, 4, 4, '\0');
    return bytes;
  };
  for (const auto& [path, content] : first_files) {
    INFO(path);
    CHECK(second_files.contains(path));
    CHECK(without_gzip_mtime(path, second_files[path]) == without_gzip_mtime(path, content));
  }
  // And they are real archives of their kind.
  auto wheel = fs::path(first.path()) / "pypi/files/si_pure-1.0-py3-none-any.whl";
  CHECK(contains(run({"unzip", "-l", wheel.string()}).out, "si_pure-1.0.dist-info/RECORD"));
  auto crate = fs::path(first.path()) / "cargo/crates/si-crate/0.1.0.crate";
  CHECK(contains(run({"tar", "-tzf", crate.string()}).out, "si-crate-0.1.0/build.rs"));
  CHECK(contains(read_file(fs::path(first.path()) / "cargo/index/si/-c/si-crate"),
                 "\"cksum\":\"" +
                     registry_files::digest_hex(registry_files::Digest::Sha256, read_file(crate)) +
                     "\""));
}
