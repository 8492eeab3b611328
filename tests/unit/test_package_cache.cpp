// Package caches without poisoning: npm's cacache layout, the bucket rule, and review + merge
// of what a run wrote, on real directories and (where the kernel allows) a real overlayfs.
#include <openssl/evp.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "runner/cache/cacache.h"
#include "runner/cache/package_cache.h"
#include "runner/fs/digest.h"
#include "staging_test_support.h"

using namespace safeinstall::runner;
using namespace safeinstall::staging_test;
namespace cc = safeinstall::runner::cacache;

namespace {

std::string base64_of_hex(const std::string& hex) {
  std::string bytes;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    bytes += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::string integrity_of(const std::string& bytes, const std::string& algorithm = "sha512") {
  return algorithm + "-" + base64_of_hex(hex_digest(algorithm, bytes));
}

std::string blob_path(const std::string& bytes, const std::string& algorithm = "sha512") {
  return cc::content_path({algorithm, hex_digest(algorithm, bytes)});
}

std::string entry_json(const std::string& key, const std::string& integrity, long time = 1) {
  return nlohmann::json{{"key", key},
                        {"integrity", integrity},
                        {"time", time},
                        {"size", 1},
                        {"metadata", {{"url", key}}}}
      .dump();
}

std::string tarball_key(const std::string& name) {
  return "make-fetch-happen:request-cache:http://registry.test/" + name + "/-/" + name +
         "-1.0.0.tgz";
}

// A cacache dir the way npm leaves it: content blobs and one bucket line per key.
struct NpmCache {
  std::string dir;
  // Adds a package tarball: its blob and an index entry; returns the bucket's path.
  std::string add(const std::string& name, const std::string& bytes, long time = 1) const {
    write_file(dir + "/" + blob_path(bytes), bytes);
    std::string bucket = cc::bucket_path_of_key(tarball_key(name));
    std::string path = dir + "/" + bucket;
    std::string old = exists(path) ? read_file(path) : "";
    write_file(path, old + cc::format_bucket_line(
                               entry_json(tarball_key(name), integrity_of(bytes), time)));
    return bucket;
  }
};

// A persistent cache (the overlay's lower dir), a run's upper and work dirs, and a merged
// mount point, under one scratch dir.
struct CacheRun {
  ScratchDir root{"si-cache"};
  CacheStaging cache;
  NpmCache persistent;
  explicit CacheRun(CacheFormat format = CacheFormat::cacache) {
    auto decls = builtin_caches({"npm", "ci"});
    REQUIRE(decls.size() == 1);
    CacheDecl decl = decls.front();
    decl.format = format;
    make_dir(root / "run", 0700);  // the run store makes it
    auto prepared = prepare_cache(decl, root / "caches", root / "run", root / "home");
    INFO((prepared ? std::string() : prepared.error().message()));
    REQUIRE(prepared);
    cache = *prepared;
    persistent.dir = cache.persistent;
    make_dir(root / "merged");
  }
  // Runs `writes` on the merged view of a real overlay; false (with a warning) when the kernel
  // refuses the mount.
  bool in_overlay(const std::function<void(const std::string&)>& writes) {
    auto run = run_in_overlay(cache.persistent, cache.upper, cache.work, root / "merged", writes);
    if (!run.mounted) WARN("real overlay test skipped: " << run.why_not);
    return run.mounted;
  }
  CacheReview review() const {
    auto r = review_cache(cache);
    REQUIRE(r);
    return std::move(*r);
  }
};

bool mentions(const CacheReview& review, const std::string& path, const std::string& words) {
  return std::ranges::any_of(review.tampering, [&](const CacheFinding& f) {
    return f.path == path && f.problem.find(words) != std::string::npos;
  });
}

}  // namespace

TEST_CASE("cacache: paths of the layout are told apart") {
  std::string blob = blob_path("abc");
  auto content = cc::classify(blob);
  CHECK(content.kind == cc::PathKind::content);
  CHECK(content.content.algorithm == "sha512");
  CHECK(content.content.hex == hex_digest("sha512", "abc"));
  CHECK(cc::classify(blob_path("abc", "sha1")).kind == cc::PathKind::content);
  CHECK(cc::classify(cc::bucket_path_of_key("k")).kind == cc::PathKind::bucket);
  CHECK(cc::classify(cc::bucket_path_of_key("k")).bucket_hex == hex_digest("sha256", "k"));
  CHECK(cc::classify("tmp/abc123").kind == cc::PathKind::scratch);
  CHECK(cc::classify("content-v2/sha512/ab").kind == cc::PathKind::layout_dir);
  CHECK(cc::classify("index-v5").kind == cc::PathKind::layout_dir);
  // The wrong length for the algorithm, an unknown algorithm, upper-case hex, stray names.
  CHECK(cc::classify("content-v2/sha1/ab/cd/" + std::string(60, 'a')).kind == cc::PathKind::other);
  CHECK(cc::classify("content-v2/md5/ab/cd/" + std::string(28, 'a')).kind == cc::PathKind::other);
  CHECK(cc::classify("index-v5/AB/cd/" + std::string(60, 'a')).kind == cc::PathKind::other);
  CHECK(cc::classify("_logs/debug.log").kind == cc::PathKind::other);
}

TEST_CASE("cacache: integrity strings name content blobs") {
  std::string sri = integrity_of("pkg") + " " + integrity_of("pkg", "sha1") + "?opt md5-AAAA";
  auto hashes = cc::parse_integrity(sri);
  REQUIRE(hashes.size() == 2);
  CHECK(hashes[0] == cc::Hash{"sha512", hex_digest("sha512", "pkg")});
  CHECK(hashes[1] == cc::Hash{"sha1", hex_digest("sha1", "pkg")});
  CHECK(cc::content_path(hashes[0]) == blob_path("pkg"));
  CHECK(cc::parse_integrity("sha512-!!notbase64!!").empty());
  CHECK(cc::parse_integrity("sha512-" + base64_of_hex(hex_digest("sha1", "x"))).empty());
}

TEST_CASE("cacache: a bucket only gains valid lines") {
  std::string key = tarball_key("a");
  std::string hex = cc::bucket_hex_of_key(key);
  std::string old = cc::format_bucket_line(entry_json(key, integrity_of("a1"), 1));
  std::string appended = cc::format_bucket_line(entry_json(key, integrity_of("a2"), 2));

  SECTION("an append is accepted") {
    auto r = cc::review_bucket(old, old + appended, hex);
    CHECK(r.problem.empty());
    REQUIRE(r.new_lines.size() == 1);
    CHECK("\n" + r.new_lines[0] == appended);
  }
  SECTION("a new bucket is all appends") {
    auto r = cc::review_bucket("", appended, hex);
    CHECK(r.problem.empty());
    CHECK(r.new_lines.size() == 1);
  }
  SECTION("another run appended meanwhile: only this run's lines count") {
    std::string theirs = cc::format_bucket_line(entry_json(key, integrity_of("a3"), 3));
    auto r = cc::review_bucket(old + theirs, old + appended, hex);
    CHECK(r.problem.empty());
    REQUIRE(r.new_lines.size() == 1);
    CHECK("\n" + r.new_lines[0] == appended);
  }
  SECTION("npm's compaction drops superseded lines: they stay, the new one is added") {
    auto r = cc::review_bucket(old, appended, hex);
    CHECK(r.problem.empty());
    REQUIRE(r.new_lines.size() == 1);
    CHECK("\n" + r.new_lines[0] == appended);
  }
  SECTION("an existing entry edited in place counts as a new entry, never as a change") {
    std::string edited = cc::format_bucket_line(entry_json(key, integrity_of("a9"), 1));
    auto r = cc::review_bucket(old + appended, edited + appended, hex);
    CHECK(r.problem.empty());
    REQUIRE(r.new_lines.size() == 1);
    CHECK("\n" + r.new_lines[0] == edited);
  }
  SECTION("a line whose hash does not match is refused") {
    std::string json = entry_json(key, integrity_of("a2"), 2);
    std::string bad = "\n" + hex_digest("sha1", "something else") + "\t" + json;
    auto r = cc::review_bucket(old, old + bad, hex);
    CHECK_THAT(r.problem, Catch::Contains("sha1 does not match"));
  }
  SECTION("an entry for another key in this bucket is refused") {
    std::string other = cc::format_bucket_line(entry_json(tarball_key("b"), integrity_of("b"), 2));
    auto r = cc::review_bucket(old, old + other, hex);
    CHECK_THAT(r.problem, Catch::Contains("another key's bucket"));
  }
  SECTION("a deletion marker is refused") {
    auto json = nlohmann::json{{"key", key}, {"integrity", nullptr}, {"time", 5}}.dump();
    auto r = cc::review_bucket(old, old + cc::format_bucket_line(json), hex);
    CHECK_THAT(r.problem, Catch::Contains("deletes it"));
  }
}

TEST_CASE("package cache: npm's cache is declared for npm and npx only") {
  auto npm = builtin_caches({"/usr/bin/npm", "ci"});
  REQUIRE(npm.size() == 1);
  CHECK(npm[0].name == "npm");
  CHECK(npm[0].home_path == ".npm/_cacache");
  CHECK(npm[0].format == CacheFormat::cacache);
  CHECK(builtin_caches({"npx", "x"}).size() == 1);
  CHECK(builtin_caches({"pip", "install"}).empty());
  CHECK(builtin_caches({}).empty());
}

TEST_CASE("package cache: prepare makes a private cache and the run's dirs") {
  CacheRun run;
  for (const char* dir : {"run2", "run3", "run4", "run5"}) make_dir(run.root / dir, 0700);
  struct stat st {};
  REQUIRE(::stat(run.cache.persistent.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(st.st_uid == ::geteuid());
  CHECK(exists(run.cache.upper));
  CHECK(exists(run.cache.work));
  CHECK(run.cache.target == run.root / "home/.npm/_cacache");
  REQUIRE(run.cache.env.size() == 1);
  CHECK(run.cache.env[0].second == run.root / "home/.npm");

  SECTION("a cache dir open to others is made private") {
    ::chmod(run.cache.persistent.c_str(), 0777);
    auto again =
        prepare_cache(run.cache.decl, run.root / "caches", run.root / "run2", run.root / "home");
    REQUIRE(again);
    REQUIRE(::stat(run.cache.persistent.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
  }
  SECTION("a symlink in the cache's place is refused") {
    fs::remove_all(run.cache.persistent);
    fs::create_symlink(run.root.path(), run.cache.persistent);
    CHECK_FALSE(
        prepare_cache(run.cache.decl, run.root / "caches", run.root / "run3", run.root / "home"));
  }
  SECTION("names that would leave the cache root are refused") {
    CacheDecl bad = run.cache.decl;
    bad.name = "../npm";
    CHECK_FALSE(prepare_cache(bad, run.root / "caches", run.root / "run4", run.root / "home"));
    bad = run.cache.decl;
    bad.home_path = "../../etc";
    CHECK_FALSE(prepare_cache(bad, run.root / "caches", run.root / "run5", run.root / "home"));
  }
}

TEST_CASE("package cache: a hand-made upper dir with new, bad, modified and deleted entries") {
  CacheRun run;
  std::string old_bucket = run.persistent.add("old", "old tarball");
  std::string old_blob = blob_path("old tarball");
  const std::string& up = run.cache.upper;

  SECTION("new verified content and its index entry are accepted and merged") {
    NpmCache{up}.add("new", "new tarball");
    write_file(up + "/tmp/leftover", "npm's scratch");
    write_file(up + "/stray.txt", "not in the layout");
    auto review = run.review();
    CHECK_FALSE(review.tampered());
    CHECK(review.new_files == std::vector<std::string>{blob_path("new tarball")});
    REQUIRE(review.appends.size() == 1);
    CHECK(review.ignored == std::vector<std::string>{"stray.txt"});
    auto merged = merge_cache(run.cache, review);
    REQUIRE(merged);
    CHECK(merged->files_added == 1);
    CHECK(merged->entries_appended == 1);
    CHECK(read_file(run.cache.persistent + "/" + blob_path("new tarball")) == "new tarball");
    CHECK(read_file(run.cache.persistent + "/" + review.appends[0].path) ==
          read_file(up + "/" + review.appends[0].path));
    CHECK_FALSE(exists(run.cache.persistent + "/stray.txt"));
    CHECK_FALSE(exists(run.cache.persistent + "/tmp/leftover"));
    // Nothing half-written is left in the scratch dir.
    CHECK(fs::is_empty(run.cache.root + "/npm.tmp"));

    SECTION("merging the same again finds it present and appends nothing") {
      auto again = merge_cache(run.cache, review);
      REQUIRE(again);
      CHECK(again->files_added == 0);
      CHECK(again->files_present == 1);
      CHECK(again->entries_appended == 0);
    }
  }
  SECTION("content whose sha512 does not match its name is discarded and recorded") {
    std::string path = blob_path("what the name says");
    write_file(up + "/" + path, "what is inside");
    auto review = run.review();
    CHECK(mentions(review, path, "sha512 does not match"));
    CHECK(review.new_files.empty());
    CHECK_FALSE(merge_cache(run.cache, review));
    CHECK_FALSE(exists(run.cache.persistent + "/" + path));
  }
  SECTION("an existing blob rewritten is tampering; copied up unchanged it is not") {
    write_file(up + "/" + old_blob, "poisoned");
    CHECK(mentions(run.review(), old_blob, "rewritten"));
    write_file(up + "/" + old_blob, "old tarball");
    auto review = run.review();
    CHECK_FALSE(review.tampered());
    CHECK(review.unchanged_copies == 1);
  }
  SECTION("an existing blob deleted (a whiteout) is tampering") {
    if (!make_whiteout(up + "/" + old_blob)) {
      WARN("whiteout test skipped: mknod refused");
      return;
    }
    auto review = run.review();
    CHECK(mentions(review, old_blob, "deleted"));
    CHECK_FALSE(merge_cache(run.cache, review));
    CHECK(read_file(run.cache.persistent + "/" + old_blob) == "old tarball");
  }
  SECTION("an index entry for content that is nowhere is tampering") {
    std::string key = tarball_key("ghost");
    write_file(up + "/" + cc::bucket_path_of_key(key),
               cc::format_bucket_line(entry_json(key, integrity_of("never stored"))));
    CHECK(mentions(run.review(), cc::bucket_path_of_key(key), "not in the cache"));
  }
  SECTION("an index entry for content already in the cache is accepted") {
    std::string key = tarball_key("alias");
    write_file(up + "/" + cc::bucket_path_of_key(key),
               cc::format_bucket_line(entry_json(key, integrity_of("old tarball"))));
    auto review = run.review();
    CHECK_FALSE(review.tampered());
    CHECK(review.appends.size() == 1);
  }
  SECTION("a symlink planted in the cache is tampering") {
    fs::create_directories(up + "/content-v2/sha512/aa/bb");
    fs::create_symlink("/etc/passwd", up + "/content-v2/sha512/aa/bb/" + std::string(124, 'c'));
    CHECK(run.review().tampered());
  }
  SECTION("a bucket appended to: old entries kept, the new one added") {
    std::string bytes = "old tarball v2";
    write_file(up + "/" + blob_path(bytes), bytes);
    std::string line =
        cc::format_bucket_line(entry_json(tarball_key("old"), integrity_of(bytes), 2));
    std::string before = read_file(run.cache.persistent + "/" + old_bucket);
    write_file(up + "/" + old_bucket, before + line);
    auto review = run.review();
    CHECK_FALSE(review.tampered());
    REQUIRE(merge_cache(run.cache, review));
    CHECK(read_file(run.cache.persistent + "/" + old_bucket) == before + line);
  }
  SECTION("a bucket rewritten by compaction: the cache keeps its lines and gains the new one") {
    std::string bytes = "old tarball v3";
    write_file(up + "/" + blob_path(bytes), bytes);
    std::string line =
        cc::format_bucket_line(entry_json(tarball_key("old"), integrity_of(bytes), 3));
    std::string before = read_file(run.cache.persistent + "/" + old_bucket);
    write_file(up + "/" + old_bucket, line);
    auto review = run.review();
    CHECK_FALSE(review.tampered());
    REQUIRE(merge_cache(run.cache, review));
    CHECK(read_file(run.cache.persistent + "/" + old_bucket) == before + line);
  }
  SECTION("a bucket line whose hash does not match is tampering, and nothing is merged") {
    std::string bytes = "evil tarball";
    write_file(up + "/" + blob_path(bytes), bytes);
    std::string json = entry_json(tarball_key("old"), integrity_of(bytes), 1);
    std::string before = read_file(run.cache.persistent + "/" + old_bucket);
    write_file(up + "/" + old_bucket, before + "\n" + std::string(40, 'f') + "\t" + json);
    auto review = run.review();
    CHECK(mentions(review, old_bucket, "sha1 does not match"));
    CHECK_FALSE(merge_cache(run.cache, review));
    CHECK_FALSE(exists(run.cache.persistent + "/" + blob_path(bytes)));
    CHECK(read_file(run.cache.persistent + "/" + old_bucket) == before);
  }
}

TEST_CASE("package cache: plain caches merge new files only") {
  CacheRun run(CacheFormat::plain);
  write_file(run.cache.persistent + "/existing", "kept");
  write_file(run.cache.upper + "/sub/new", "new");
  auto review = run.review();
  CHECK_FALSE(review.tampered());
  REQUIRE(merge_cache(run.cache, review));
  CHECK(read_file(run.cache.persistent + "/sub/new") == "new");
  write_file(run.cache.upper + "/existing", "changed");
  CHECK(mentions(run.review(), "existing", "rewritten"));
}

TEST_CASE("package cache: what a run does through a real overlay") {
  CacheRun run;
  std::string old_bucket = run.persistent.add("old", "old tarball");
  std::string old_blob = blob_path("old tarball");

  SECTION("npm's way: a new blob moved in from tmp/, an entry appended to a bucket") {
    bool mounted = run.in_overlay([&](const std::string& m) {
      write_file(m + "/tmp/abc", "new tarball");
      fs::create_directories(fs::path(m + "/" + blob_path("new tarball")).parent_path());
      fs::rename(m + "/tmp/abc", m + "/" + blob_path("new tarball"));
      NpmCache{m}.add("old", "new tarball", 2);  // appends to the existing bucket
    });
    if (!mounted) return;
    auto review = run.review();
    CHECK_FALSE(review.tampered());
    CHECK(review.new_files.size() == 1);
    REQUIRE(review.appends.size() == 1);
    CHECK(review.appends[0].path == old_bucket);
    std::string before = read_file(run.cache.persistent + "/" + old_bucket);
    auto merged = merge_cache(run.cache, review);
    REQUIRE(merged);
    CHECK(merged->entries_appended == 1);
    CHECK(read_file(run.cache.persistent + "/" + old_bucket) ==
          before + cc::format_bucket_line(
                       entry_json(tarball_key("old"), integrity_of("new tarball"), 2)));
  }
  SECTION("a script that rewrites an existing blob and deletes another file") {
    write_file(run.cache.persistent + "/" + blob_path("other"), "other");
    bool mounted = run.in_overlay([&](const std::string& m) {
      write_file(m + "/" + old_blob, "poisoned");
      fs::remove(m + "/" + blob_path("other"));
    });
    if (!mounted) return;
    auto review = run.review();
    CHECK(mentions(review, old_blob, "rewritten"));
    CHECK(mentions(review, blob_path("other"), "deleted"));
    CHECK_FALSE(merge_cache(run.cache, review));
    CHECK(read_file(run.cache.persistent + "/" + old_blob) == "old tarball");
  }
  SECTION("rm -rf of the whole cache") {
    bool mounted = run.in_overlay([&](const std::string& m) {
      fs::remove_all(m + "/content-v2");
      fs::remove_all(m + "/index-v5");
    });
    if (!mounted) return;
    auto review = run.review();
    CHECK(mentions(review, "content-v2", "deleted"));
    CHECK(mentions(review, "index-v5", "deleted"));
  }
}
