#include <catch2/catch.hpp>

#include "egress_test_support.h"
#include "sandbox/egress/tls_client_hello.h"

using namespace safeinstall::sandbox;
using egress_test::client_hello;
using Status = ClientHelloScan::Status;

TEST_CASE("client hello: SNI is read from a whole ClientHello") {
  auto hello = client_hello("Registry.Test");
  auto scan = scan_client_hello(hello);
  CHECK(scan.status == Status::Complete);
  CHECK(scan.server_name == "registry.test");
}

TEST_CASE("client hello: no SNI is complete without a name") {
  auto scan = scan_client_hello(client_hello(std::nullopt));
  CHECK(scan.status == Status::Complete);
  CHECK_FALSE(scan.server_name);
}

TEST_CASE("client hello: every prefix asks for more, the whole answers") {
  auto hello = client_hello("registry.test", 100, 600);  // split over seven records
  for (std::size_t n = 1; n < hello.size(); ++n) {
    INFO(n);
    REQUIRE(scan_client_hello(std::span(hello).first(n)).status == Status::NeedMore);
  }
  auto scan = scan_client_hello(hello);
  CHECK(scan.status == Status::Complete);
  CHECK(scan.server_name == "registry.test");
}

TEST_CASE("client hello: not TLS, broken, or too large") {
  std::string http = "GET / HTTP/1.1\r\n";
  CHECK(
      scan_client_hello(std::span(reinterpret_cast<const std::uint8_t*>(http.data()), http.size()))
          .status == Status::NotTls);

  auto wrong_type = client_hello("registry.test");
  wrong_type[5] = 2;  // ServerHello
  CHECK(scan_client_hello(wrong_type).status == Status::Malformed);

  auto bad_version = client_hello("registry.test");
  bad_version[1] = 9;
  CHECK(scan_client_hello(bad_version).status == Status::Malformed);

  auto bad_name = client_hello("evil host");
  CHECK(scan_client_hello(bad_name).status == Status::Malformed);

  auto huge = client_hello("registry.test", 16384, kMaxClientHelloBytes);
  CHECK(scan_client_hello(huge).status == Status::Malformed);

  // A length that promises more than is ever sent: bounded by the caller's reads.
  std::vector<std::uint8_t> endless{0x16, 3, 1, 0x40, 0};
  endless.resize(kMaxClientHelloBytes + 10, 0);
  CHECK(scan_client_hello(endless).status == Status::Malformed);
}

TEST_CASE("client hello: a second server_name extension is refused") {
  CHECK(scan_client_hello(client_hello("registry.test", 16384, 0, 2)).status == Status::Malformed);
}
