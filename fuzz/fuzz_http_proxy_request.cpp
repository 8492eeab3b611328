// Request heads as the proxy and the transparent relay see them: Beast's parser with the
// gateway's limits, then the checks and rewrites of proxy_request.cpp.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sandbox/egress/proxy_request.h"

using namespace safeinstall::sandbox;

namespace {

const EgressPolicy& policy() {
  static const EgressPolicy instance =
      *EgressPolicy::parse({"registry.npmjs.org", "*.pythonhosted.org", "plain.example:80",
                            "203.0.113.7:8080", "[2001:db8::1]:443"});
  return instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  constexpr std::size_t kMaxHeader = 16 * 1024;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);

  // Exactly what the proxy does with a head.
  auto target = examine_proxy_request_bytes(bytes, policy(), kMaxHeader);
  if (!target) {
    auto response = refusal_response(target.error());
    if (response.find("\r\n\r\n") == std::string::npos) __builtin_trap();
  } else if (target->kind == RequestTarget::Kind::Forward &&
             !target->origin_form.starts_with('/')) {
    __builtin_trap();  // the origin only ever sees origin-form targets
  }

  // And what the transparent relay does with the same head.
  RequestParser parser;
  configure_request_parser(parser, kMaxHeader);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (parser.is_header_done()) {
    auto transparent = examine_transparent_request(parser.get(), "plain.example", 80);
    if (transparent) {
      RequestHead head = parser.get().base();
      prepare_forwarded_request(head, *transparent, false, {});
      if (head[http::field::host] != "plain.example") __builtin_trap();
    }
  }
  return 0;
}
