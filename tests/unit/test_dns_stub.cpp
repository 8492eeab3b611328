#include <catch2/catch.hpp>

#include "egress_test_support.h"
#include "sandbox/egress/dns/dns_responder.h"

using namespace safeinstall::sandbox;
using egress_test::dns_query;

namespace {

struct Stub {
  EgressPolicy policy = *EgressPolicy::parse({"registry.npmjs.org", "*.pythonhosted.org:443"});
  FakeAddressPool pool;
  NetworkRecord record;
  DnsResponder responder{policy, pool, record, 60};

  std::vector<std::uint8_t> ask(const std::vector<std::uint8_t>& query) {
    auto reply = responder.respond(query);
    REQUIRE(reply);
    return *reply;
  }
};

std::uint16_t u16(const std::vector<std::uint8_t>& m, std::size_t at) {
  return static_cast<std::uint16_t>((m.at(at) << 8) | m.at(at + 1));
}
unsigned rcode(const std::vector<std::uint8_t>& m) {
  return u16(m, 2) & 0xf;
}
unsigned answers(const std::vector<std::uint8_t>& m) {
  return u16(m, 6);
}

// The A record's address of a reply with one answer after one question.
std::string answer_address(const std::vector<std::uint8_t>& reply, std::size_t query_size) {
  REQUIRE(reply.size() == query_size + 16);
  std::size_t at = query_size;
  CHECK(u16(reply, at) == 0xc00c);  // name: pointer to the question
  CHECK(u16(reply, at + 2) == 1);   // A
  CHECK(u16(reply, at + 4) == 1);   // IN
  CHECK(u16(reply, at + 10) == 4);
  return std::to_string(reply[at + 12]) + "." + std::to_string(reply[at + 13]) + "." +
         std::to_string(reply[at + 14]) + "." + std::to_string(reply[at + 15]);
}

}  // namespace

TEST_CASE("dns stub: an allowed name gets a stable fake loopback address") {
  Stub stub;
  auto query = dns_query("registry.npmjs.org", dns_type::A, 0xbeef);
  auto reply = stub.ask(query);
  CHECK(u16(reply, 0) == 0xbeef);
  CHECK((u16(reply, 2) & 0x8000) != 0);  // QR
  CHECK((u16(reply, 2) & 0x0100) != 0);  // RD echoed
  CHECK(rcode(reply) == 0);
  CHECK(u16(reply, 4) == 1);
  CHECK(answers(reply) == 1);
  CHECK(std::equal(query.begin() + 12, query.end(), reply.begin() + 12));  // question echoed
  CHECK(answer_address(reply, query.size()) == "127.77.0.1");

  auto other = dns_query("files.pythonhosted.org", dns_type::A);
  CHECK(answer_address(stub.ask(other), other.size()) == "127.77.0.2");
  // Same name, any case, again: same address.
  auto again = dns_query("REGISTRY.npmjs.org", dns_type::A);
  CHECK(answer_address(stub.ask(again), again.size()) == "127.77.0.1");
  CHECK(stub.pool.name_for(boost::asio::ip::make_address_v4("127.77.0.2")) ==
        "files.pythonhosted.org");
  CHECK_FALSE(stub.pool.name_for(boost::asio::ip::make_address_v4("127.77.0.3")));

  REQUIRE(stub.record.dns().size() == 2);
  CHECK(stub.record.dns()[0].name == "registry.npmjs.org");
  CHECK(stub.record.dns()[0].type == "A");
  CHECK(stub.record.dns()[0].allowed);
  CHECK(stub.record.dns()[0].count == 2);
}

TEST_CASE("dns stub: AAAA and other types of an allowed name are empty NOERROR") {
  Stub stub;
  for (std::uint16_t type : {dns_type::AAAA, std::uint16_t{65}, std::uint16_t{16}}) {
    auto reply = stub.ask(dns_query("registry.npmjs.org", type));
    CHECK(rcode(reply) == 0);
    CHECK(answers(reply) == 0);
  }
  CHECK(stub.record.dns()[0].type == "AAAA");
  CHECK(stub.record.dns()[1].type == "HTTPS");
  CHECK(stub.record.dns()[2].type == "TXT");
  CHECK(stub.pool.size() == 0);  // no address handed out for them
}

TEST_CASE("dns stub: refused names get NXDOMAIN and are recorded") {
  Stub stub;
  for (const char* name :
       {"6578.exfil.invalid", "pythonhosted.org", "registry.npmjs.org.evil.example", "localhost"}) {
    auto reply = stub.ask(dns_query(name, dns_type::A));
    INFO(name);
    CHECK(rcode(reply) == 3);
    CHECK(answers(reply) == 0);
  }
  CHECK(stub.record.dns()[0].name == "6578.exfil.invalid");
  CHECK_FALSE(stub.record.dns()[0].allowed);
  CHECK(stub.pool.size() == 0);
}

TEST_CASE("dns stub: odd names are recorded escaped and refused") {
  Stub stub;
  std::vector<std::uint8_t> query = dns_query("x", dns_type::A);
  // Replace the label "x" with three raw bytes: "a.\xff"
  query.erase(query.begin() + 12, query.begin() + 14);
  std::vector<std::uint8_t> label{3, 'a', '.', 0xff};
  query.insert(query.begin() + 12, label.begin(), label.end());
  auto reply = stub.ask(query);
  CHECK(rcode(reply) == 3);
  CHECK(stub.record.dns()[0].name == "a\\046\\255");
}

TEST_CASE("dns stub: non-IN classes are refused") {
  Stub stub;
  auto reply = stub.ask(dns_query("version.bind", 16, 7, 3));  // CH TXT
  CHECK(rcode(reply) == 5);
  CHECK_FALSE(stub.record.dns()[0].allowed);
}

TEST_CASE("dns stub: malformed queries get FORMERR and are recorded") {
  Stub stub;
  auto check_formerr = [&](std::vector<std::uint8_t> query) {
    auto reply = stub.ask(query);
    CHECK(rcode(reply) == 1);
    CHECK(u16(reply, 0) == u16(query, 0));
    CHECK(reply.size() == 12);
  };
  auto truncated = dns_query("registry.npmjs.org", dns_type::A);
  truncated.resize(truncated.size() - 3);
  check_formerr(truncated);
  auto two_questions = dns_query("registry.npmjs.org", dns_type::A);
  two_questions[5] = 2;
  check_formerr(two_questions);
  auto pointer = dns_query("x", dns_type::A);
  pointer[12] = 0xc0;
  pointer[13] = 0x0c;
  check_formerr(pointer);
  std::vector<std::uint8_t> long_name = dns_query("x", dns_type::A);
  long_name.resize(12);
  for (int i = 0; i < 5; ++i) {
    long_name.push_back(63);
    long_name.insert(long_name.end(), 63, 'a');
  }
  long_name.push_back(0);
  egress_test::put16(long_name, 1);
  egress_test::put16(long_name, 1);
  check_formerr(long_name);

  // Too short for a header, or a response: no answer at all, still recorded.
  CHECK_FALSE(stub.responder.respond(std::vector<std::uint8_t>{1, 2, 3}));
  auto response = dns_query("registry.npmjs.org", dns_type::A);
  response[2] |= 0x80;
  CHECK_FALSE(stub.responder.respond(response));

  REQUIRE(stub.record.refused().size() == 1);
  CHECK(stub.record.refused()[0].reason == RefusalReason::Malformed);
  CHECK(stub.record.refused()[0].port == 53);
  CHECK(stub.record.refused()[0].count == 6);
}

TEST_CASE("dns stub: other opcodes get NOTIMP") {
  Stub stub;
  auto update = dns_query("registry.npmjs.org", dns_type::A);
  update[2] = static_cast<std::uint8_t>(update[2] | (5 << 3));  // opcode UPDATE
  auto reply = stub.ask(update);
  CHECK(rcode(reply) == 4);
}

TEST_CASE("dns stub: an exhausted pool fails the query, not the run") {
  EgressPolicy policy = *EgressPolicy::parse({"*.example.org"});
  FakeAddressPool pool(boost::asio::ip::make_address_v4("127.77.0.1"), 2);
  NetworkRecord record;
  DnsResponder responder(policy, pool, record, 60);
  CHECK(answers(*responder.respond(dns_query("a.example.org", dns_type::A))) == 1);
  CHECK(answers(*responder.respond(dns_query("b.example.org", dns_type::A))) == 1);
  CHECK(rcode(*responder.respond(dns_query("c.example.org", dns_type::A))) == 2);
  CHECK(answers(*responder.respond(dns_query("a.example.org", dns_type::A))) == 1);
}

TEST_CASE("dns message: type names") {
  CHECK(dns_type_name(1) == "A");
  CHECK(dns_type_name(28) == "AAAA");
  CHECK(dns_type_name(65) == "HTTPS");
  CHECK(dns_type_name(65534) == "TYPE65534");
}
