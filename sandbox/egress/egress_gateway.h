#pragma once
// The egress gateway: the sandbox's one way out. Serves the listeners created inside the
// sandbox's network namespace (HTTP proxy, DNS stub, transparent relays) on the
// supervisor's event loop, and connects out from the host's namespace to the hosts the
// policy allows, recording everything. One event loop, no threads of its own (Asio runs
// getaddrinfo on its internal resolver thread), no extra processes.

#include <boost/asio/io_context.hpp>
#include <memory>

#include "sandbox/base/error.h"
#include "sandbox/egress/egress_policy.h"
#include "sandbox/egress/gateway_listeners.h"
#include "sandbox/egress/gateway_options.h"
#include "sandbox/egress/network_record.h"

namespace safeinstall::sandbox {

struct GatewayState;

class EgressGateway {
 public:
  EgressGateway(boost::asio::io_context& io, EgressPolicy policy, GatewayOptions options = {});
  EgressGateway(const EgressGateway&) = delete;
  EgressGateway& operator=(const EgressGateway&) = delete;
  // Stops serving; handlers still queued in the io_context finish harmlessly.
  ~EgressGateway();

  // Takes the listeners and starts accepting on them (the io_context must be run). Fails,
  // serving nothing, if one of them cannot be adopted; may be called once.
  Result<> serve(GatewayListeners listeners);

  // Everything seen so far; complete once stop() was called (byte counts grow while
  // connections are open).
  const NetworkRecord& record() const;

  // Closes the listeners and every open connection. Idempotent.
  void stop();

  // Open TCP connections from the sandbox.
  std::size_t active_connections() const;

 private:
  boost::asio::io_context& io_;
  std::shared_ptr<GatewayState> state_;
  bool serving_ = false;
};

}  // namespace safeinstall::sandbox
