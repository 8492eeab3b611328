#pragma once
// Package registries as static files for the real clients other than npm (npm_registry.h):
// pip, gem/bundler, cargo, go and composer. Each builder writes under a FakeInternet's
// registry_root(), served at http://registry.test/ (plain HTTP, port 80), and throws
// std::runtime_error naming the package and the step that failed. Archives are built with
// the real tools (zip, tar, gzip, gem build/generate_index) with fixed times, so the same
// input gives the same bytes.
//
// How each client is pointed at it (inside safeinstall add `--allow-host registry.test:80`):
//
//   pip (python3 -m venv V; V/bin/pip install ...):
//     --index-url http://registry.test/simple/ --trusted-host registry.test
//     --no-build-isolation   (an sdist is built with the venv's own setuptools: isolation would
//                             fetch setuptools from the index, which does not have it)
//     env: PIP_INDEX_URL, PIP_TRUSTED_HOST, PIP_NO_BUILD_ISOLATION=0 do the same;
//     PIP_NO_CACHE_DIR=1 or PIP_CACHE_DIR=<scratch>. Outside a venv Debian's pip also needs
//     --break-system-packages (or --target DIR).
//   gem:     gem install --clear-sources --source http://registry.test/gems/ NAME
//            (GEM_HOME=<scratch> to install as a user; HOME for its caches)
//   bundler: Gemfile `source "http://registry.test/gems/"`; bundle install with
//            BUNDLE_PATH=<dir> (or BUNDLE_DEPLOYMENT), HOME=<scratch>. Bundler finds no compact
//            index here (/versions is 404) and no dependency API, and uses the full index.
//   cargo:   .cargo/config.toml in the project (or CARGO_HOME/config.toml):
//              [source.crates-io]
//              replace-with = "fake"
//              [source.fake]
//              registry = "sparse+http://registry.test/cargo/index/"
//            plus, for Debian 12's cargo 0.66 where sparse registries are unstable:
//            env CARGO_UNSTABLE_SPARSE_REGISTRY=true RUSTC_BOOTSTRAP=1 (newer cargo ignores
//            both). CARGO_HOME=<scratch> keeps the download cache private.
//   go:      GOPROXY=http://registry.test/go GOSUMDB=off GOFLAGS=-mod=mod
//            GOPATH/GOMODCACHE/GOCACHE=<scratch> (GONOSUMDB is not needed with GOSUMDB=off).
//   composer: composer.json
//              "repositories": [{"type": "composer", "url": "http://registry.test/composer"},
//                               {"packagist.org": false}],
//              "config": {"secure-http": false}
//            env COMPOSER_HOME/COMPOSER_CACHE_DIR=<scratch>, COMPOSER_ALLOW_SUPERUSER=1 as
//            root; flags --no-interaction.
//
// Where code runs at install time: pip runs an sdist's setup.py; gem and bundler run a gem's
// extconf.rb (and make); cargo runs a dependency's build.rs when building; go runs nothing of
// a module while downloading or building it (no hooks; cgo only compiles); composer runs the
// ROOT package's scripts only, never a dependency's (a dependency's code runs at install only
// as a composer-plugin the root allows in config.allow-plugins).

#include <map>
#include <string>
#include <vector>

namespace safeinstall::test {

// ---- PyPI: a PEP 503 simple index ----
//   ROOT/simple/index.html                 every project
//   ROOT/simple/<normalized name>/index.html   links to its files, with #sha256=
//   ROOT/pypi/files/<file>                 wheels and sdists
struct PypiPackage {
  enum class Format { Wheel, Sdist };
  std::string name;
  std::string version;
  Format format = Format::Wheel;
  std::map<std::string, std::string> files;  // importable files, e.g. "si_pure/__init__.py"
  std::vector<std::string> requires_dist;    // "si-other>=1.0"
  // Sdist only: Python that setup.py runs whenever pip builds or installs it (the install
  // hook an attacker uses). Runs before setup() is called.
  std::string setup_code;
};
void write_pypi_registry(const std::string& root, const std::string& base_url,
                         const std::vector<PypiPackage>& packages);

// ---- RubyGems: a gem source, as `gem generate_index` builds it ----
//   ROOT/gems/gems/<name>-<version>.gem, ROOT/gems/specs.4.8.gz, latest_specs, quick/...
// The whole index is regenerated over every .gem in ROOT/gems/gems on each call.
struct GemPackage {
  std::string name;
  std::string version;
  std::map<std::string, std::string> files;         // e.g. "lib/si_hello.rb"
  std::map<std::string, std::string> dependencies;  // name -> requirement ("~> 1.0")
  // Non-empty: the gem has a native extension ext/<name>/extconf.rb with this content, which
  // gem runs at install (it must leave a Makefile in the current directory; gem then runs
  // make and make install).
  std::string extconf_rb;
  // Commands the gem installs (each bin/<name> among `files`): gem and bundler write a
  // RubyGems wrapper for each into their bin directory.
  std::vector<std::string> executables;
};
void write_gem_registry(const std::string& root, const std::string& base_url,
                        const std::vector<GemPackage>& packages);

// ---- cargo: a sparse registry ----
//   ROOT/cargo/index/config.json         {"dl": base_url + "cargo/crates/{crate}/{version}.crate"}
//   ROOT/cargo/index/<prefix>/<name>     one JSON line per version (cksum = sha256)
//   ROOT/cargo/crates/<name>/<version>.crate
struct CratePackage {
  std::string name;
  std::string version;
  std::map<std::string, std::string> files;         // e.g. "src/lib.rs"; Cargo.toml is generated
  std::map<std::string, std::string> dependencies;  // name -> requirement
  std::string build_rs;  // non-empty: build.rs, which cargo compiles and runs when building
};
void write_cargo_registry(const std::string& root, const std::string& base_url,
                          const std::vector<CratePackage>& packages);

// ---- go: a GOPROXY file tree ----
//   ROOT/go/<escaped module>/@v/list, <version>.info, <version>.mod, <version>.zip
struct GoModule {
  std::string path;                                     // "example.test/greet"
  std::string version;                                  // "v1.0.0"
  std::map<std::string, std::string> files;             // e.g. "greet.go"; go.mod is generated
  std::map<std::string, std::string> requires_modules;  // module path -> version
};
void write_go_proxy(const std::string& root, const std::vector<GoModule>& modules);

// ---- composer: a composer repository ----
//   ROOT/composer/packages.json          every version of every package, inline
//   ROOT/composer/dists/<vendor>/<name>-<version>.zip   (dist.shasum = sha1)
struct ComposerPackage {
  std::string name;  // "vendor/name"
  std::string version;
  std::map<std::string, std::string> files;    // e.g. "src/Hello.php"; composer.json generated
  std::map<std::string, std::string> require;  // name -> constraint
  std::map<std::string, std::string> autoload_psr4;  // "Si\\Hello\\" -> "src/"
  std::map<std::string, std::string> scripts;        // event -> command (run only for the root)
  // "composer-plugin", with extra {"class": "Vendor\\Plugin"} and require
  // {"composer-plugin-api": "^2.0"}: composer runs the class's activate() at install when the
  // root allows the plugin in config.allow-plugins.
  std::string type = "library";
  std::map<std::string, std::string> extra;
};
void write_composer_registry(const std::string& root, const std::string& base_url,
                             const std::vector<ComposerPackage>& packages);

}  // namespace safeinstall::test
