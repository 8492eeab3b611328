#include <catch2/catch.hpp>

#include "sandbox/egress/egress_policy.h"
#include "sandbox/egress/network_record.h"
#include "sandbox/egress/proxy_request.h"
#include "sandbox/egress/upstream_proxy.h"

using namespace safeinstall::sandbox;
namespace ip = boost::asio::ip;

namespace {

EgressPolicy policy_of(std::vector<std::string> patterns) {
  auto policy = EgressPolicy::parse(patterns);
  REQUIRE(policy);
  return *policy;
}

std::string pattern_error(const std::string& pattern) {
  auto parsed = parse_host_pattern(pattern);
  REQUIRE_FALSE(parsed);
  return parsed.error().step;
}

bool non_public(const char* address) {
  return is_non_public_address(ip::make_address(address));
}

}  // namespace

TEST_CASE("egress policy: exact names, default port 443, explicit ports") {
  auto policy = policy_of({"registry.npmjs.org", "plain.example:80", "registry.example:8443"});
  CHECK(policy.allows("registry.npmjs.org", 443));
  CHECK(policy.allows("REGISTRY.npmjs.org.", 443));
  CHECK_FALSE(policy.allows("registry.npmjs.org", 80));  // port 80 must be listed
  CHECK_FALSE(policy.allows("npmjs.org", 443));
  CHECK_FALSE(policy.allows("evil.registry.npmjs.org", 443));
  CHECK_FALSE(policy.allows("registry.npmjs.org.evil.example", 443));
  CHECK(policy.allows("plain.example", 80));
  CHECK_FALSE(policy.allows("plain.example", 443));
  CHECK(policy.allows("registry.example", 8443));
  CHECK_FALSE(policy.allows("registry.example", 443));
}

TEST_CASE("egress policy: *. matches subdomains only") {
  auto policy = policy_of({"*.pythonhosted.org"});
  CHECK(policy.allows("files.pythonhosted.org", 443));
  CHECK(policy.allows("a.b.pythonhosted.org", 443));
  CHECK_FALSE(policy.allows("pythonhosted.org", 443));
  CHECK_FALSE(policy.allows("evilpythonhosted.org", 443));
  CHECK_FALSE(policy.allows("files.pythonhosted.org.evil.example", 443));
  CHECK(policy.allows_name("files.pythonhosted.org"));
  CHECK_FALSE(policy.allows_name("pythonhosted.org"));
}

TEST_CASE("egress policy: IP literals only when listed exactly") {
  auto policy = policy_of({"203.0.113.7", "[2001:db8::1]:8080", "registry.example"});
  CHECK(policy.allows("203.0.113.7", 443));
  CHECK_FALSE(policy.allows("203.0.113.8", 443));
  CHECK_FALSE(policy.allows("203.0.113.7", 80));
  CHECK(policy.allows("2001:db8::1", 8080));
  CHECK(policy.allows("[2001:db8:0::1]", 8080));
  CHECK_FALSE(policy.allows("2001:db8::1", 443));
  // A name never stands for a listed address, nor an address for a name.
  CHECK_FALSE(policy_of({"registry.example"}).allows("203.0.113.7", 443));
  // Numeric forms resolvers would read as IPv4 are not names.
  CHECK(policy.decide("2130706433", 443) == EgressPolicy::Decision::Malformed);
  CHECK(policy.decide("127.1", 443) == EgressPolicy::Decision::Malformed);
  CHECK(policy.decide("0x7f.1", 443) == EgressPolicy::Decision::Malformed);
  CHECK(policy.decide("bad host", 443) == EgressPolicy::Decision::Malformed);
  CHECK(policy.decide("", 443) == EgressPolicy::Decision::Malformed);
}

TEST_CASE("egress policy: pattern errors say what is wrong") {
  CHECK_THAT(pattern_error("https://registry.npmjs.org"), Catch::Contains("not a URL"));
  CHECK_THAT(pattern_error("registry.npmjs.org/path"), Catch::Contains("no path"));
  CHECK_THAT(pattern_error("2001:db8::1"), Catch::Contains("need brackets"));
  CHECK_THAT(pattern_error("registry.npmjs.org:0"), Catch::Contains("1 to 65535"));
  CHECK_THAT(pattern_error("registry.npmjs.org:99999"), Catch::Contains("1 to 65535"));
  CHECK_THAT(pattern_error("registry.npmjs.org:http"), Catch::Contains("1 to 65535"));
  CHECK_THAT(pattern_error("reg*.npmjs.org"), Catch::Contains("first label"));
  CHECK_THAT(pattern_error("*"), Catch::Contains("first label"));
  CHECK_THAT(pattern_error("[203.0.113.7]"), Catch::Contains("not a valid IP address"));
  CHECK_THAT(pattern_error("bad_host!"), Catch::Contains("not a valid host name"));
  CHECK_THAT(pattern_error(""), Catch::Contains("empty"));
  CHECK_THAT(pattern_error("[::1"), Catch::Contains("without `]`"));
  auto parsed = parse_host_pattern("  *.Example.ORG:8443 ");
  REQUIRE(parsed);
  CHECK(parsed->text() == "*.example.org:8443");
  CHECK(parse_host_pattern("[2001:DB8::1]")->text() == "[2001:db8::1]:443");
  CHECK(parse_host_pattern("x")->text() == "x:443");
}

TEST_CASE("egress policy: address classification") {
  for (const char* address : {"127.0.0.1",
                              "127.77.0.1",
                              "10.1.2.3",
                              "172.16.0.1",
                              "172.31.255.255",
                              "192.168.1.1",
                              "169.254.169.254",
                              "100.64.0.1",
                              "100.127.255.255",
                              "224.0.0.1",
                              "239.255.255.250",
                              "255.255.255.255",
                              "0.0.0.0",
                              "0.1.2.3",
                              "240.0.0.1",
                              "::",
                              "::1",
                              "fc00::1",
                              "fd12::1",
                              "fe80::1",
                              "febf::1",
                              "fec0::1",
                              "ff02::1",
                              "::ffff:127.0.0.1",
                              "::ffff:169.254.169.254",
                              "::ffff:10.0.0.1",
                              "::ffff:0.0.0.0",
                              "::127.0.0.1",
                              "64:ff9b::a9fe:a9fe",
                              "2002:a00:1::1",
                              "64:ff9b:1::1"}) {
    INFO(address);
    CHECK(non_public(address));
  }
  for (const char* address : {"203.0.113.7", "198.51.100.1", "192.0.2.1", "8.8.8.8", "172.32.0.1",
                              "100.128.0.1", "169.255.0.1", "2001:db8::1", "2606:4700::1111",
                              "::ffff:203.0.113.7", "64:ff9b::cb00:7107"}) {
    INFO(address);
    CHECK_FALSE(non_public(address));
  }
}

TEST_CASE("egress policy: non-public addresses pass only when listed with the port") {
  auto policy = policy_of({"registry.test:8080", "127.0.0.1:8080"});
  CHECK(policy.permits_address(ip::make_address("203.0.113.7"), 443));
  CHECK(policy.permits_address(ip::make_address("127.0.0.1"), 8080));
  CHECK(policy.permits_address(ip::make_address("::ffff:127.0.0.1"), 8080));
  CHECK_FALSE(policy.permits_address(ip::make_address("127.0.0.1"), 8081));
  CHECK_FALSE(policy.permits_address(ip::make_address("127.0.0.2"), 8080));
  CHECK_FALSE(policy.permits_address(ip::make_address("169.254.169.254"), 80));
  CHECK_FALSE(policy.permits_address(ip::make_address("::1"), 8080));
}

TEST_CASE("egress policy: refusal reasons read as in the report") {
  CHECK(to_string(RefusalReason::NotAllowed) == "not-allowed");
  CHECK(to_string(RefusalReason::PrivateAddress) == "private-address");
  CHECK(to_string(RefusalReason::SniMismatch) == "sni-mismatch");
  CHECK(to_string(RefusalReason::Malformed) == "malformed");
}

TEST_CASE("network record: contacted, refused and dns, each entry counted once") {
  NetworkRecord record;
  auto& entry = record.add_connection("registry.npmjs.org", 443, Via::Proxy);
  entry.bytes_sent += 10;
  entry.bytes_received += 20;
  record.add_connection("registry.npmjs.org", 443, Via::Proxy);
  record.add_connection("registry.npmjs.org", 443, Via::Transparent);
  record.add_refusal("webhook.site", 443, RefusalReason::NotAllowed);
  record.add_refusal("webhook.site", 443, RefusalReason::NotAllowed);
  record.add_refusal("bad\x01host\xff", 443, RefusalReason::Malformed);
  record.add_dns_question("x.example", "A", false);
  record.add_dns_question("x.example", "A", false);
  const NetworkEntries& entries = record.entries();
  REQUIRE(entries.contacted.size() == 2);
  const ContactedHost& proxied = entries.contacted[0];
  CHECK(proxied.host == "registry.npmjs.org");
  CHECK(proxied.port == 443);
  CHECK(proxied.via == Via::Proxy);
  CHECK(proxied.connections == 2);
  CHECK(proxied.bytes_sent == 10);
  CHECK(proxied.bytes_received == 20);
  CHECK(entries.contacted[1].via == Via::Transparent);
  REQUIRE(entries.refused.size() == 2);
  CHECK(entries.refused[0].host == "webhook.site");
  CHECK(entries.refused[0].port == 443);
  CHECK(entries.refused[0].reason == RefusalReason::NotAllowed);
  CHECK(entries.refused[0].count == 2);
  CHECK(entries.refused[1].host == "bad\\x01host\\xff");
  REQUIRE(entries.dns.size() == 1);
  CHECK(entries.dns[0].name == "x.example");
  CHECK(entries.dns[0].type == "A");
  CHECK_FALSE(entries.dns[0].allowed);
  CHECK(entries.dns[0].count == 2);
}

TEST_CASE("network record: a flood of distinct names stays bounded") {
  NetworkRecord record;
  for (std::size_t i = 0; i < NetworkRecord::kMaxEntries + 100; ++i) {
    record.add_dns_question(std::to_string(i) + ".exfil.invalid", "A", false);
  }
  CHECK(record.dns().size() == NetworkRecord::kMaxEntries + 1);
  CHECK(record.dns().back().name == "(more names)");
  CHECK(record.dns().back().count == 100);
}

TEST_CASE("upstream proxy: from the invoker's environment") {
  auto proxies = UpstreamProxies::from_environment(
      {"HTTPS_PROXY=http://user:p%40ss@proxy.corp:3128/", "http_proxy=proxy.corp:8080",
       "HTTP_PROXY=http://ignored:1", "NO_PROXY=.internal.corp, localhost,10.0.0.0/8,*.svc"});
  REQUIRE(proxies);
  REQUIRE(proxies->https);
  CHECK(proxies->https->host == "proxy.corp");
  CHECK(proxies->https->port == 3128);
  CHECK(proxies->https->authorization == "Basic dXNlcjpwQHNz");  // user:p@ss
  CHECK(proxies->https->display() == "http://proxy.corp:3128");
  REQUIRE(proxies->http);
  CHECK(proxies->http->port == 8080);
  CHECK(proxies->http->authorization.empty());
  CHECK(proxies->bypasses("git.internal.corp"));
  CHECK(proxies->bypasses("internal.corp"));
  CHECK(proxies->bypasses("LOCALHOST"));
  CHECK(proxies->bypasses("10.2.3.4"));
  CHECK(proxies->bypasses("a.svc"));
  CHECK_FALSE(proxies->bypasses("registry.npmjs.org"));
  CHECK_FALSE(proxies->bypasses("11.2.3.4"));
  CHECK_FALSE(proxies->bypasses("notinternal.corp"));
  CHECK(proxies->for_tunnel("registry.npmjs.org") != nullptr);
  CHECK(proxies->for_tunnel("git.internal.corp") == nullptr);

  auto none = UpstreamProxies::from_environment({"PATH=/bin", "HTTPS_PROXY="});
  REQUIRE(none);
  CHECK(none->empty());
  auto all = UpstreamProxies::from_environment({"ALL_PROXY=http://[2001:db8::5]:99", "no_proxy=*"});
  REQUIRE(all);
  CHECK(all->https->host == "2001:db8::5");
  CHECK(all->https->display() == "http://[2001:db8::5]:99");
  CHECK(all->for_http("anything.example") == nullptr);
}

TEST_CASE("upstream proxy: unsupported proxies fail without echoing credentials") {
  auto socks = UpstreamProxies::from_environment({"https_proxy=socks5://user:secret@proxy:1080"});
  REQUIRE_FALSE(socks);
  CHECK_THAT(socks.error().step, Catch::Contains("https_proxy") && Catch::Contains("socks5"));
  CHECK_THAT(socks.error().step, !Catch::Contains("secret"));
  CHECK_FALSE(parse_upstream_proxy("http://proxy:0", "HTTP_PROXY"));
  CHECK_FALSE(parse_upstream_proxy("http://bad host:80", "HTTP_PROXY"));
}

TEST_CASE("proxy request: CONNECT and absolute-form targets") {
  auto policy = policy_of({"registry.npmjs.org", "plain.example:80"});
  auto connect = examine_proxy_request_bytes(
      "CONNECT registry.npmjs.org:443 HTTP/1.1\r\nHost: registry.npmjs.org:443\r\n\r\n", policy,
      16384);
  REQUIRE(connect);
  CHECK(connect->kind == RequestTarget::Kind::Tunnel);
  CHECK(connect->authority.host == "registry.npmjs.org");
  CHECK(connect->authority.port == 443);

  auto get = examine_proxy_request_bytes(
      "GET http://Plain.Example/a/b?c=d#frag HTTP/1.1\r\nHost: x\r\n\r\n", policy, 16384);
  REQUIRE(get);
  CHECK(get->kind == RequestTarget::Kind::Forward);
  CHECK(get->authority.host == "plain.example");
  CHECK(get->authority.port == 80);
  CHECK(get->origin_form == "/a/b?c=d");

  auto query_only =
      examine_proxy_request_bytes("GET http://plain.example?x HTTP/1.1\r\n\r\n", policy, 16384);
  REQUIRE(query_only);
  CHECK(query_only->origin_form == "/?x");
}

TEST_CASE("proxy request: refusals carry status, reason and what to record") {
  auto policy = policy_of({"registry.npmjs.org"});
  auto refused = [&](std::string_view bytes) {
    auto result = examine_proxy_request_bytes(bytes, policy, 1024);
    REQUIRE_FALSE(result);
    return result.error();
  };
  auto not_allowed = refused("CONNECT webhook.site:443 HTTP/1.1\r\n\r\n");
  CHECK(not_allowed.status == 403);
  CHECK(not_allowed.reason == RefusalReason::NotAllowed);
  CHECK(not_allowed.host == "webhook.site");
  CHECK(not_allowed.port == 443);
  CHECK(refused("CONNECT registry.npmjs.org:80 HTTP/1.1\r\n\r\n").status == 403);
  CHECK(refused("CONNECT registry.npmjs.org HTTP/1.1\r\n\r\n").reason == RefusalReason::Malformed);
  CHECK(refused("CONNECT [::1 HTTP/1.1\r\n\r\n").status == 400);
  CHECK(refused("GET /origin/form HTTP/1.1\r\n\r\n").status == 400);
  CHECK(refused("GET https://registry.npmjs.org/ HTTP/1.1\r\n\r\n").status == 400);
  CHECK(refused("GET http://registry.npmjs.org@evil.example/ HTTP/1.1\r\n\r\n").status == 400);
  CHECK(refused("GET http://2130706433/ HTTP/1.1\r\n\r\n").status == 400);
  CHECK(refused("NOT HTTP AT ALL\r\n\r\n").status == 400);
  auto large = refused("GET http://registry.npmjs.org/ HTTP/1.1\r\nX: " + std::string(2000, 'a') +
                       "\r\n\r\n");
  CHECK(large.status == 431);
  CHECK(large.reason == RefusalReason::Malformed);
  auto text = refusal_response(not_allowed);
  CHECK_THAT(text, Catch::StartsWith("HTTP/1.1 403 Forbidden\r\n"));
  CHECK_THAT(text, Catch::Contains("webhook.site:443 refused (not-allowed)"));
}

TEST_CASE("proxy request: rewriting for the next hop") {
  auto policy = policy_of({"plain.example:80", "other.example:8080"});
  RequestParser parser;
  configure_request_parser(parser, 16384);
  std::string bytes =
      "POST http://other.example:8080/up HTTP/1.1\r\nHost: wrong\r\nProxy-Connection: "
      "keep-alive\r\n"
      "Proxy-Authorization: Basic c2FuZGJveA==\r\nExpect: 100-continue\r\nContent-Length: "
      "3\r\n\r\n";
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(bytes), ec);
  REQUIRE(parser.is_header_done());
  auto target = examine_proxy_request(parser.get(), policy, 3128);
  REQUIRE(target);
  RequestHead direct = parser.get().base();
  CHECK(prepare_forwarded_request(direct, *target, false, {}));
  CHECK(direct.target() == "/up");
  CHECK(direct[http::field::host] == "other.example:8080");
  CHECK(direct.find(http::field::proxy_connection) == direct.end());
  CHECK(direct.find(http::field::proxy_authorization) == direct.end());
  CHECK(direct.find(http::field::expect) == direct.end());
  RequestHead chained = parser.get().base();
  prepare_forwarded_request(chained, *target, true, "Basic dTpw");
  CHECK(chained.target() == "http://other.example:8080/up");
  CHECK(chained[http::field::proxy_authorization] == "Basic dTpw");
}

TEST_CASE("proxy request: transparent HTTP must name the dialled host") {
  auto head_of = [](std::string bytes) {
    RequestParser parser;
    configure_request_parser(parser, 16384);
    boost::system::error_code ec;
    parser.put(boost::asio::buffer(bytes), ec);
    REQUIRE(parser.is_header_done());
    return RequestHead(parser.get().base());
  };
  auto ok = examine_transparent_request(head_of("GET /x HTTP/1.1\r\nHost: registry.test\r\n\r\n"),
                                        "registry.test", 80);
  REQUIRE(ok);
  CHECK(ok->origin_form == "/x");
  CHECK(examine_transparent_request(head_of("GET /x HTTP/1.1\r\nHost: registry.test:80\r\n\r\n"),
                                    "registry.test", 80));
  auto fronted = examine_transparent_request(
      head_of("GET /x HTTP/1.1\r\nHost: evil.example\r\n\r\n"), "registry.test", 80);
  REQUIRE_FALSE(fronted);
  CHECK(fronted.error().reason == RefusalReason::SniMismatch);
  CHECK(fronted.error().host == "evil.example");
  CHECK_FALSE(examine_transparent_request(
      head_of("GET /x HTTP/1.1\r\nHost: registry.test:81\r\n\r\n"), "registry.test", 80));
  CHECK_FALSE(examine_transparent_request(head_of("GET /x HTTP/1.1\r\n\r\n"), "registry.test", 80));
  CHECK(examine_transparent_request(head_of("GET /x HTTP/1.0\r\n\r\n"), "registry.test", 80));
}
