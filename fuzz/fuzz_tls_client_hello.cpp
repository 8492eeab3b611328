// The first bytes of a TLS connection as the transparent relay peeks them for SNI.
#include <cstddef>
#include <cstdint>
#include <span>

#include "sandbox/egress/egress_policy.h"
#include "sandbox/egress/tls_client_hello.h"

using namespace safeinstall::sandbox;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto scan = scan_client_hello(std::span(data, size));
  if (scan.server_name) {
    // A name that passes is always one the policy can compare as is.
    if (scan.status != ClientHelloScan::Status::Complete) __builtin_trap();
    if (canonical_host_name(*scan.server_name) != scan.server_name) __builtin_trap();
  }
  return 0;
}
