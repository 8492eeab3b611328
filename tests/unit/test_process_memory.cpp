// Reading a process's pointer arrays and strings the way the recorder reads an exec's argv
// and environment: here from this very process, with pages unmapped where the reads must stop.
#include <sys/mman.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <vector>

#include "sandbox/seccomp/process_memory.h"

using safeinstall::sandbox::ProcessMemory;

namespace {

constexpr std::size_t kPage = 4096;

// Two pages; the second unmapped when asked, so a read running into it fails there.
struct TwoPages {
  char* base;
  explicit TwoPages(bool second_mapped) {
    void* p =
        ::mmap(nullptr, 2 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(p != MAP_FAILED);
    base = static_cast<char*>(p);
    if (!second_mapped) ::munmap(base + kPage, kPage);
  }
  ~TwoPages() { ::munmap(base, 2 * kPage); }
};

std::uint64_t address_of(const void* p) {
  return reinterpret_cast<std::uint64_t>(p);
}

}  // namespace

TEST_CASE("process memory: a pointer array is read up to its NULL, also unaligned across pages") {
  ProcessMemory self(::getpid());
  const char* strings[] = {"npm_lifecycle_event=postinstall", "PATH=/usr/bin", "HOME=/root"};
  TwoPages pages(/*second_mapped=*/true);
  // Starts 3 bytes before the page end: every pointer after the first straddles or follows it.
  char* at = pages.base + kPage - 3;
  for (std::size_t i = 0; i <= 3; ++i) {
    std::uint64_t pointer = i < 3 ? address_of(strings[i]) : 0;
    std::memcpy(at + i * 8, &pointer, 8);
  }
  auto pointers = self.pointer_array_at(address_of(at), 4096);
  REQUIRE(pointers.size() == 3);
  CHECK(pointers[2] == address_of(strings[2]));
  CHECK(self.strings_at(address_of(at), 4096, 4096) ==
        std::vector<std::string>{strings[0], strings[1], strings[2]});
  CHECK(self.pointer_array_at(address_of(at), 2).size() == 2);  // at most max

  // No NULL before an unmapped page: what was readable, nothing invented after it.
  TwoPages cut(/*second_mapped=*/false);
  char* end = cut.base + kPage - 16;
  std::uint64_t first = address_of(strings[0]), second = address_of(strings[1]);
  std::memcpy(end, &first, 8);
  std::memcpy(end + 8, &second, 8);
  CHECK(self.pointer_array_at(address_of(end), 4096).size() == 2);
}

TEST_CASE("process memory: prefixes of many addresses in one read, cut where the pages end") {
  ProcessMemory self(::getpid());
  TwoPages cut(/*second_mapped=*/false);
  std::vector<std::string> texts;
  for (int i = 0; i < 2500; ++i)
    texts.push_back(i % 2 == 0 ? "npm_x=" + std::to_string(i) : "XYZW=1");
  std::vector<std::uint64_t> addresses;
  for (const auto& t : texts) addresses.push_back(address_of(t.c_str()));
  addresses[1500] = address_of(cut.base + kPage);   // unmapped: the batch stops there
  addresses[7] = address_of(cut.base + kPage - 2);  // its 4 bytes run into the unmapped page
  std::memcpy(cut.base + kPage - 2, "ab", 2);

  auto heads = self.prefixes_at(addresses, 4);
  REQUIRE(heads.size() == addresses.size());
  CHECK(heads[0] == "npm_");
  CHECK(heads[1] == "XYZW");
  CHECK(heads[7] == "ab");  // what could be read
  CHECK(heads[1500].empty());
  CHECK(heads[1499] == "XYZW");
  CHECK(heads[1502] == "npm_");
  CHECK(heads[2499] == "XYZW");
}

TEST_CASE("process memory: an argv's strings come in one read, whatever their length and place") {
  ProcessMemory self(::getpid());
  TwoPages cut(/*second_mapped=*/false);
  TwoPages both(/*second_mapped=*/true);
  // One ends just before an unmapped page, one crosses into a mapped page, one is long.
  char* last = cut.base + kPage - 6;
  std::memcpy(last, "tail!", 6);
  char* crossing = both.base + kPage - 4;
  std::memcpy(crossing, "across", 7);
  std::string long_one(1000, 'x');
  std::vector<std::uint64_t> argv = {address_of(last), address_of(crossing),
                                     address_of(long_one.c_str()), 0};
  auto strings = self.strings_at(address_of(argv.data()), 16, 4096);
  CHECK(strings == std::vector<std::string>{"tail!", "across", long_one});
  // Cut at the bound, however long.
  auto cut_short = self.strings_at(address_of(argv.data()), 16, 3);
  CHECK(cut_short == std::vector<std::string>{"tai", "acr", "xxx"});
  // An unreadable one is empty; those after it are read all the same.
  argv.insert(argv.begin(), address_of(cut.base + kPage));
  CHECK(self.strings_at(address_of(argv.data()), 16, 4096) ==
        std::vector<std::string>{"", "tail!", "across", long_one});
}

// What prefetch() read serves the reads inside it (here seen by changing the memory after it),
// and nothing else: a read outside, or past where a range could be read, goes to the process.
TEST_CASE("process memory: reads inside what was prefetched are served from it") {
  TwoPages cut(/*second_mapped=*/false);
  char* near_end = cut.base + kPage - 8;
  std::memcpy(near_end, "1234567", 8);
  std::string text = "before";
  std::uint64_t argv[] = {address_of(text.c_str()), 0};
  ProcessMemory self(::getpid());
  self.prefetch({ProcessMemory::string_head(address_of(text.c_str()), 4096),
                 self.pointer_array_head(address_of(argv), 256),
                 ProcessMemory::string_head(address_of(near_end), 4096)});
  std::memcpy(text.data(), "AFTER!", 6);
  std::memcpy(near_end, "abcdefg", 8);
  CHECK(self.string_at(address_of(text.c_str())) == "before");
  CHECK(self.strings_at(address_of(argv), 256, 4096) == std::vector<std::string>{"before"});
  // Only 8 bytes of that range could be read: a longer read is the process's.
  CHECK(self.string_at(address_of(near_end)) == "abcdefg");
  CHECK(ProcessMemory(::getpid()).string_at(address_of(text.c_str())) == "AFTER!");
}

// Heads in one page are read as one segment, in whatever order they come: each still gets its
// own bytes when a later one lies before an earlier one or another page comes between, and an
// unreadable page fails all of its heads and none of those after it.
TEST_CASE("process memory: heads sharing a page are read together and each keeps its own bytes") {
  ProcessMemory self(::getpid());
  TwoPages pages(/*second_mapped=*/true);
  char* first = pages.base;
  char* second = pages.base + kPage;
  std::memcpy(first + 100, "alpha", 6);
  std::memcpy(first + 10, "bravo", 6);
  std::memcpy(first + 3000, "delta", 6);
  std::memcpy(second + 5, "other", 6);
  std::memcpy(first + 50, "echo", 5);
  std::vector<std::uint64_t> addresses = {address_of(first + 100), address_of(first + 10),
                                          address_of(first + 3000), address_of(second + 5),
                                          address_of(first + 50)};
  CHECK(self.prefixes_at(addresses, 5) ==
        std::vector<std::string>{"alpha", "bravo", "delta", "other", std::string("echo\0", 5)});

  TwoPages cut(/*second_mapped=*/false);
  std::memcpy(cut.base + 20, "kept", 5);
  std::vector<std::uint64_t> around_a_hole = {
      address_of(first + 100), address_of(cut.base + kPage + 5), address_of(cut.base + kPage + 90),
      address_of(cut.base + 20), address_of(first + 10)};
  CHECK(self.prefixes_at(around_a_hole, 4) ==
        std::vector<std::string>{"alph", "", "", "kept", "brav"});
}
