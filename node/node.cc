#include "node/node.h"

#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/resource_quota.h>
#include <prometheus/registry.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/socket.h"
#include "common/status_macros.h"

namespace kv::node {

absl::StatusOr<std::unique_ptr<Node>> Node::Create(const NodeOptions& options,
                                                   const NodeDeps& deps) {
  if (options.data_dir.empty()) return absl::InvalidArgumentError("data_dir is not set");
  std::unique_ptr<Node> node(new Node(options));

  storage::StoreOptions store_options = options.store;
  store_options.path = options.data_dir;
  store_options.env = deps.env;
  store_options.node_id = options.node_id;
  // An edge does not sync the commits that apply its stream: its logs gain nothing from
  // preallocation, and it holds its unsynced log records in memory (up to 64 KiB, for a
  // few seconds at most: the sweep syncs them once the edge is quiet) rather than write()
  // each one: a killed edge reopens at an earlier applied sequence and pulls the rest
  // again.
  using LogWrites = storage::StoreOptions::LogWrites;
  store_options.log_writes =
      options.role == Role::kEdge ? LogWrites::kHeld : LogWrites::kPreallocated;
  KV_ASSIGN_OR_RETURN(node->store_, storage::Store::Open(store_options, deps.clock, deps.registry));

  if (deps.channels != nullptr) {
    node->channels_ = deps.channels;
  } else {
    node->owned_channels_ = MakeTcpChannelFactory();
    node->channels_ = node->owned_channels_.get();
  }
  if (deps.registry != nullptr) {
    node->metrics_ = std::make_unique<RpcMetrics>(*deps.registry);
    node->replication_metrics_ = std::make_unique<replication::ReplicationMetrics>(*deps.registry);
  } else {
    node->replication_metrics_ = std::make_unique<replication::ReplicationMetrics>();
  }
  prometheus::Registry* registry = deps.registry;
  if (registry == nullptr) {
    node->own_registry_ = std::make_shared<prometheus::Registry>();
    registry = node->own_registry_.get();
  }
  const bool edge = options.role == Role::kEdge;
  gossip::Member self;
  self.id = options.node_id;
  self.role = edge ? gossip::kRoleEdge : gossip::kRoleOrigin;
  self.region = options.region;
  self.address = options.listen_address;
  // A restarted node describes itself anew: its newer incarnation wins over old rumours.
  self.incarnation = static_cast<uint64_t>(absl::ToUnixMillis(absl::Now()));
  node->membership_ = std::make_unique<gossip::Membership>(self, options.members, deps.clock,
                                                           options.membership);
  gossip::GossiperOptions gossiper;
  gossiper.interval = options.gossip_interval;
  node->gossiper_ = std::make_unique<gossip::Gossiper>(
      node->store_.get(), node->membership_.get(), node->channels_, deps.clock, *registry,
      gossiper, node->replication_metrics_.get());
  PeerAddress origin = options.origin;
  if (edge && !options.join_seed.empty()) {
    KV_ASSIGN_OR_RETURN(origin, node->Join());
  }
  if (edge) {
    if (origin.address.empty()) return absl::InvalidArgumentError("edge without an origin");
    node->forwarder_ = std::make_unique<Forwarder>(node->channels_, origin, node->store_.get(),
                                                   options.forward_apply_wait, deps.registry);
  }
  node->context_.store = node->store_.get();
  node->context_.forwarder = node->forwarder_.get();
  node->context_.clock = deps.clock;
  node->context_.metrics = node->metrics_.get();
  node->context_.node_id = options.node_id;
  node->context_.role = edge ? kv::v1::NODE_ROLE_EDGE : kv::v1::NODE_ROLE_ORIGIN;
  node->service_ = std::make_unique<KvService>(&node->context_);
  node->replication_service_ = std::make_unique<replication::ReplicationService>(
      node->store_.get(), node->replication_metrics_.get(), options.replication);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, grpc::InsecureServerCredentials(),
                           &node->port_);
  builder.RegisterService(node->service_.get());
  node->get_server_ = std::make_unique<GetServer>(&node->context_, node->service_.get(), &builder,
                                                  options.get_threads);
  builder.RegisterService(node->replication_service_.get());
  node->gossip_service_ =
      std::make_unique<gossip::GossipService>(node->store_.get(), node->membership_.get());
  builder.RegisterService(node->gossip_service_.get());
  ConfigurePeerServer(ChannelOptions(), &builder);
  builder.SetMaxReceiveMessageSize(options.max_receive_message_bytes);
  builder.AddChannelArgument(GRPC_ARG_HTTP2_BDP_PROBE, options.grpc_bdp_probe ? 1 : 0);
  if (options.grpc_memory_bytes > 0) {
    grpc::ResourceQuota quota("kv-node-" + options.node_id);
    quota.Resize(options.grpc_memory_bytes);
    builder.SetResourceQuota(quota);
  }
  node->server_ = builder.BuildAndStart();
  if (node->server_ == nullptr || node->port_ == 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot serve on ", options.listen_address, " (address in use?)"));
  }
  // The replication stream over plain TCP, on the gRPC host and options.stream_port
  // (subscribers ask StreamAddress for it).
  {
    std::string host;
    int grpc_port = 0;
    KV_RETURN_IF_ERROR(SplitHostPort(options.listen_address, &host, &grpc_port));
    if (absl::Status s = node->replication_service_->ServeTcp(host, options.stream_port); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat("replication stream: ", s.message()));
    }
  }
  if (!options.resp_address.empty()) {
    absl::StatusOr<std::unique_ptr<RespServer>> resp =
        RespServer::Start(&node->context_, deps.registry, options.resp_address);
    if (!resp.ok()) {
      return absl::Status(resp.status().code(),
                          absl::StrCat("RESP port: ", resp.status().message()));
    }
    node->resp_server_ = std::move(*resp);
  }
  node->get_server_->Start();
  node->server_->GetHealthCheckService()->SetServingStatus(true);
  node->membership_->SetSelfAddress(node->address());
  if (edge) {
    replication::FollowerOptions follower;
    follower.node_id = options.node_id;
    follower.transport = options.stream_transport;
    follower.silence_timeout = std::max(absl::Seconds(2), 5 * options.replication.heartbeat);
    if (options.stream_on_resp_loop && node->resp_server_) {
      follower.input_loop = node->resp_server_.get();
    }
    node->follower_ = std::make_unique<replication::Follower>(
        node->store_.get(), node->channels_, origin, deps.clock,
        node->replication_metrics_.get(), follower);
    // Refused by the origin (another lineage, or behind its retained log): repair from it.
    node->follower_->set_on_needs_repair([gossiper = node->gossiper_.get(), origin](
                                             const absl::Status&) {
      absl::Status repaired = gossiper->RepairFrom(origin, /*adopt_lineage=*/true);
      if (!repaired.ok()) KV_LOG_WARNING("repair from the origin failed: ", repaired.ToString());
    });
    node->follower_->Start();
  }
  if (options.gossip_interval > absl::ZeroDuration()) node->gossiper_->Start();
  SweeperOptions sweeper = options.sweeper;
  // Tombstones go once every member has applied past them: the gossiped floor of
  // applied sequences, as the timestamp of that log entry (the same on every replica).
  sweeper.tombstone_watermark = [gossiper = node->gossiper_.get(),
                                 store = node->store_.get()]() -> std::optional<HlcTimestamp> {
    std::optional<uint64_t> floor = gossiper->AppliedFloor();
    if (!floor || *floor == 0) return std::nullopt;
    absl::StatusOr<HlcTimestamp> ts = store->LogEntryTimestamp(*floor);
    if (!ts.ok()) return std::nullopt;
    return *ts;
  };
  node->sweeper_ = std::make_unique<Sweeper>(node->store_.get(), deps.clock, sweeper);
  KV_LOG_INFO(
      edge ? "edge " : "origin ", options.node_id, " serving on ", node->address(),
      " (replication stream on TCP port ", node->stream_port(),
      node->resp_server_ ? absl::StrCat(", RESP port on ", node->resp_address()) : "",
      ") with data in ", options.data_dir,
      " at sequence ", node->store_->AppliedSequence(),
      edge ? absl::StrCat(
                 ", following origin ", options.origin.id, " at ", options.origin.address, " over ",
                 options.stream_transport == replication::StreamTransport::kTcp ? "TCP" : "gRPC")
           : std::string());
  return node;
}

Node::~Node() { Shutdown(); }

absl::StatusOr<PeerAddress> Node::Join() {
  absl::Status joined;
  for (int attempt = 0; attempt < 10; ++attempt) {
    joined = gossiper_->JoinThrough(options_.join_seed);
    if (joined.ok()) break;
    absl::SleepFor(absl::Milliseconds(200) * (attempt + 1));
  }
  if (!joined.ok()) {
    return absl::Status(joined.code(), absl::StrCat("cannot join through ", options_.join_seed,
                                                    ": ", joined.message()));
  }
  for (const gossip::Member& m : membership_->Snapshot()) {
    if (m.role == gossip::kRoleOrigin) {
      KV_LOG_INFO("joined through ", options_.join_seed, "; origin is ", m.id, " at ", m.address);
      return m.peer();
    }
  }
  return absl::FailedPreconditionError(
      absl::StrCat("joined through ", options_.join_seed, " but no origin is known"));
}

int Node::stream_port() const { return replication_service_->tcp_port(); }

std::string Node::resp_address() const {
  return resp_server_ ? resp_server_->address() : std::string();
}

std::string Node::address() const {
  std::string host;
  int listen_port = 0;
  if (!SplitHostPort(options_.listen_address, &host, &listen_port).ok()) host = "127.0.0.1";
  if (host.empty() || host == "0.0.0.0" || host == "::") host = "127.0.0.1";
  return JoinHostPort(host, port_);
}

std::shared_ptr<grpc::Channel> Node::InProcessChannel() {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(-1);
  return server_->InProcessChannel(args);
}

void Node::Shutdown() {
  absl::MutexLock lock(&shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  if (server_) server_->GetHealthCheckService()->SetServingStatus(false);
  if (gossiper_) gossiper_->Stop();
  // Before the RESP port: the follower may read its stream on the port's event loop.
  if (follower_) follower_->Stop();
  if (resp_server_) resp_server_->Stop();
  // Replication streams follow forever: end them first, then wait for client calls.
  if (replication_service_) replication_service_->Stop();
  if (server_) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + options_.shutdown_grace));
    server_->Wait();
  }
  if (get_server_) get_server_->Shutdown();
  sweeper_.reset();
  gossiper_.reset();
  store_.reset();  // drains queued writes, closes LevelDB
  KV_LOG_INFO("node ", options_.node_id, " stopped");
}

}  // namespace kv::node
