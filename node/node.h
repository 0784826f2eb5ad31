#ifndef KV_NODE_NODE_H_
#define KV_NODE_NODE_H_

// The composition root of one EdgeKV node: storage, the KV service, the gRPC server with
// the standard health service, and background sweeping. main() passes the real clock,
// disk and the metrics exposer's registry; tests pass an in-memory LevelDB Env, a
// simulated clock and their own registry, and talk to the node in-process or on an
// ephemeral port.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "grpcpp/grpcpp.h"
#include "leveldb/env.h"
#include "common/channel_factory.h"
#include "gossip/gossip_service.h"
#include "gossip/gossiper.h"
#include "gossip/membership.h"
#include "node/cluster_config.h"
#include "node/forwarder.h"
#include "node/get_server.h"
#include "node/kv_service.h"
#include "node/resp_server.h"
#include "node/rpc_metrics.h"
#include "node/service_context.h"
#include "node/sweeper.h"
#include "replication/follower.h"
#include "replication/replication_metrics.h"
#include "replication/replication_service.h"
#include "storage/store.h"

namespace prometheus {
class Registry;
}

namespace kv::node {

struct NodeOptions {
  // Names this node in responses and as the origin of the writes it commits.
  std::string node_id = "node-1";
  // The origin commits writes; an edge serves reads from its replica, forwards writes to
  // `origin` and follows its log.
  Role role = Role::kOrigin;
  std::string region;
  PeerAddress origin;  // edges only; unset with `join_seed`
  // The cluster's members from its config (self included or not), for gossip.
  std::vector<gossip::Member> members;
  // An edge not in the config joins through the node serving here, and learns the
  // origin and the other members from it. Requires a fixed port in listen_address.
  std::string join_seed;
  // Time between anti-entropy rounds; zero runs none in the background (tests Tick()).
  absl::Duration gossip_interval = absl::Seconds(1);
  gossip::MembershipOptions membership;
  // Stream heartbeat, log reads per batch (see ReplicationServiceOptions).
  replication::ReplicationServiceOptions replication;
  // How an edge follows the origin's log (every node serves both).
  replication::StreamTransport stream_transport = replication::StreamTransport::kTcp;
  // How long an edge waits to apply a forwarded write before answering anyway.
  absl::Duration forward_apply_wait = absl::Seconds(5);
  // host:port to serve gRPC on; port 0 picks a free port (see Node::port()).
  std::string listen_address = "127.0.0.1:7400";
  // Port of the replication stream over plain TCP, on listen_address's host; 0 picks a
  // free port. Subscribers learn it from Replication.StreamAddress either way.
  int stream_port = 0;
  // host:port of the RESP port (resp_server.h: HGET <namespace> <key> over the
  // Redis protocol, and KV.PUT / KV.DELETE on the origin); port 0 picks a free one;
  // empty serves none.
  std::string resp_address;
  // Directory for the node's LevelDB database.
  std::string data_dir;
  // Storage tuning; `path`, `env` and `node_id` are filled in by the node.
  storage::StoreOptions store;
  SweeperOptions sweeper;
  // Largest request message accepted (value parts stream in smaller messages).
  int max_receive_message_bytes = 8 * 1024 * 1024;
  // gRPC's bandwidth-delay-product probing. On, it grows each stream's flow-control
  // window to what the link could carry, so a client can push many MiB ahead of a node
  // that is busy storing (8 concurrent 25 MiB puts held ~210 MiB of gRPC read buffers).
  // Off, a stream's window stays at 64 KiB plus the message being read, so buffering per
  // upload stays around one message; the price is throughput to far-away clients
  // (about one 1 MiB message per round trip per stream).
  bool grpc_bdp_probe = false;
  // A hard cap on gRPC's memory (a ResourceQuota); 0 = none. Past it gRPC sheds load:
  // new streams are reset with RESOURCE_EXHAUSTED, so set it only as a safety net.
  size_t grpc_memory_bytes = 0;
  // Threads serving Get, each with a completion queue of its own (see get_server.h);
  // 0 = one per 4 cores, at least one. On a 2-core machine one thread costs least CPU
  // per read; more only serve more reads at once.
  int get_threads = 0;
  // An edge with a RESP port reads and applies its replication stream (over TCP), once
  // caught up, on the RESP port's event-loop thread, so one wake-up serves a batch and
  // the reads that came with it; false: on a thread of its own.
  bool stream_on_resp_loop = true;
  // How long shutdown waits for in-flight calls before cancelling them.
  absl::Duration shutdown_grace = absl::Seconds(10);
};

struct NodeDeps {
  const Clock* clock = Clock::Real();
  leveldb::Env* env = nullptr;                 // nullptr: the real file system
  prometheus::Registry* registry = nullptr;    // nullptr: no metrics
  ChannelFactory* channels = nullptr;          // links to peers; nullptr: plain TCP
};

// Thread-safe.
class Node {
 public:
  // Opens storage and starts serving. Fails if the database cannot be opened or the
  // address cannot be bound.
  static absl::StatusOr<std::unique_ptr<Node>> Create(const NodeOptions& options,
                                                      const NodeDeps& deps);
  // Shuts down (if not yet) and releases everything.
  ~Node();

  // Returns the bound gRPC port and "host:port" address.
  int port() const { return port_; }
  // The port of the replication stream over plain TCP (NodeOptions::stream_port).
  int stream_port() const;
  std::string address() const;
  // The RESP port's "host:port" (NodeOptions::resp_address), or "" if it is off.
  std::string resp_address() const;

  // Returns a channel to this node that bypasses the network.
  std::shared_ptr<grpc::Channel> InProcessChannel();

  // Stops gracefully: reports NOT_SERVING, stops accepting calls, lets in-flight calls
  // finish (up to shutdown_grace), drains pending writes and closes the database.
  void Shutdown();

  storage::Store* store() { return store_.get(); }
  Sweeper* sweeper() { return sweeper_.get(); }
  gossip::Gossiper* gossiper() { return gossiper_.get(); }
  gossip::Membership* membership() { return membership_.get(); }

 private:
  explicit Node(const NodeOptions& options) : options_(options) {}
  // Joins through options_.join_seed and returns the origin it learned.
  absl::StatusOr<PeerAddress> Join();

  const NodeOptions options_;
  std::unique_ptr<ChannelFactory> owned_channels_;
  ChannelFactory* channels_ = nullptr;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<RpcMetrics> metrics_;
  std::unique_ptr<replication::ReplicationMetrics> replication_metrics_;
  std::shared_ptr<prometheus::Registry> own_registry_;  // when NodeDeps has none
  std::unique_ptr<gossip::Membership> membership_;
  std::unique_ptr<gossip::Gossiper> gossiper_;
  std::unique_ptr<gossip::GossipService> gossip_service_;
  std::unique_ptr<Forwarder> forwarder_;
  ServiceContext context_;
  std::unique_ptr<KvService> service_;
  std::unique_ptr<replication::ReplicationService> replication_service_;
  std::unique_ptr<GetServer> get_server_;  // its queues outlive the server
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<replication::Follower> follower_;
  std::unique_ptr<RespServer> resp_server_;
  std::unique_ptr<Sweeper> sweeper_;
  int port_ = 0;
  absl::Mutex shutdown_mu_;
  bool shut_down_ ABSL_GUARDED_BY(shutdown_mu_) = false;
};

}  // namespace kv::node

#endif  // KV_NODE_NODE_H_
