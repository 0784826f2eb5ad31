#include "common/channel_factory.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/server_builder.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/log.h"

namespace kv {
namespace {

int ToMillisArg(absl::Duration d) {
  return static_cast<int>(std::clamp<int64_t>(absl::ToInt64Milliseconds(d), 1, INT32_MAX));
}

std::shared_ptr<grpc::Channel> CreatePeerChannel(const std::string& target,
                                                 const ChannelOptions& options) {
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   options.ToChannelArguments());
}

class TcpChannelFactory final : public ChannelFactory {
 public:
  explicit TcpChannelFactory(ChannelOptions options) : options_(std::move(options)) {}

  absl::StatusOr<std::string> RouteStream(const PeerAddress&,
                                          const std::string& address) override {
    return address;
  }

  std::shared_ptr<grpc::Channel> Dial(const PeerAddress& peer) override {
    absl::MutexLock lock(&mu_);
    Entry& entry = channels_[peer.id];
    if (entry.channel == nullptr || entry.address != peer.address) {
      entry.address = peer.address;
      entry.channel = CreatePeerChannel(peer.address, options_);
    }
    return entry.channel;
  }

 private:
  struct Entry {
    std::string address;
    std::shared_ptr<grpc::Channel> channel;
  };

  const ChannelOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> channels_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

grpc::ChannelArguments ChannelOptions::ToChannelArguments() const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(max_message_bytes);
  args.SetMaxSendMessageSize(max_message_bytes);
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, ToMillisArg(initial_reconnect_backoff));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, ToMillisArg(max_reconnect_backoff));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, ToMillisArg(keepalive_time));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, ToMillisArg(keepalive_timeout));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, keepalive_permit_without_calls ? 1 : 0);
  // Without this a client stops pinging after two pings with no data in between, and an
  // idle link to a dead peer would go unnoticed.
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, bdp_probe ? 1 : 0);
  return args;
}

void ConfigurePeerServer(const ChannelOptions& options, grpc::ServerBuilder* builder) {
  // Half the client's interval leaves room for timer jitter; a server counts a ping that
  // comes sooner as a strike and sends GOAWAY after two.
  builder->AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                              ToMillisArg(options.keepalive_time / 2));
  // Without it a server allows one ping per two hours on a connection with no calls.
  builder->AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS,
                              options.keepalive_permit_without_calls ? 1 : 0);
}

std::unique_ptr<ChannelFactory> MakeTcpChannelFactory(ChannelOptions options) {
  return std::make_unique<TcpChannelFactory>(std::move(options));
}

BridgedChannelFactory::BridgedChannelFactory(std::string self_region, LatencyModel model,
                                             ChannelOptions options)
    : self_region_(std::move(self_region)),
      model_(std::move(model)),
      options_(std::move(options)) {}

BridgedChannelFactory::~BridgedChannelFactory() = default;

absl::StatusOr<std::unique_ptr<LinkBridge>> BridgedChannelFactory::StartBridgeLocked(
    const PeerAddress& peer, const std::string& target) {
  const LinkControl& control = controls_[peer.id];
  LinkBridgeOptions bridge_options;
  bridge_options.one_way_latency =
      control.latency.value_or(model_.OneWay(self_region_, peer.region));
  absl::StatusOr<std::unique_ptr<LinkBridge>> bridge = LinkBridge::Start(target, bridge_options);
  if (!bridge.ok()) return bridge.status();
  if (control.cut) (*bridge)->Cut();
  if (control.blackholed) (*bridge)->Blackhole(true);
  return bridge;
}

BridgedChannelFactory::Link* BridgedChannelFactory::LinkLocked(
    const PeerAddress& peer, std::shared_ptr<grpc::Channel>* channel) {
  auto it = links_.find(peer.id);
  if (it != links_.end() && it->second.peer.address == peer.address &&
      it->second.peer.region == peer.region) {
    *channel = it->second.channel;
    return &it->second;
  }
  absl::StatusOr<std::unique_ptr<LinkBridge>> bridge = StartBridgeLocked(peer, peer.address);
  if (!bridge.ok()) {
    KV_LOG_ERROR("cannot bridge the link to peer ", peer.id, ": ", bridge.status().ToString());
    // A unix socket under a non-directory: every connection attempt fails at once.
    *channel = CreatePeerChannel(absl::StrCat("unix:/dev/null/kv-unbridged-", peer.id), options_);
    return nullptr;
  }
  Link link;
  link.peer = peer;
  link.channel = CreatePeerChannel((*bridge)->address(), options_);
  link.bridge = std::move(*bridge);
  // Replacing a link destroys its old bridges, which resets the old connections.
  *channel = link.channel;
  Link& stored = links_[peer.id] = std::move(link);
  return &stored;
}

std::shared_ptr<grpc::Channel> BridgedChannelFactory::Dial(const PeerAddress& peer) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<grpc::Channel> channel;
  LinkLocked(peer, &channel);
  return channel;
}

absl::StatusOr<std::string> BridgedChannelFactory::RouteStream(const PeerAddress& peer,
                                                               const std::string& address) {
  absl::MutexLock lock(&mu_);
  std::shared_ptr<grpc::Channel> channel;
  Link* link = LinkLocked(peer, &channel);
  if (link == nullptr) {
    return absl::UnavailableError(absl::StrCat("cannot bridge the link to peer ", peer.id));
  }
  auto it = link->streams.find(address);
  if (it == link->streams.end()) {
    absl::StatusOr<std::unique_ptr<LinkBridge>> bridge = StartBridgeLocked(peer, address);
    if (!bridge.ok()) return bridge.status();
    // A peer serves one stream port at a time (a restart picks a new one): bridges to
    // its old ones only hold dead connections.
    link->streams.clear();
    it = link->streams.emplace(address, std::move(*bridge)).first;
  }
  return it->second->address();
}

void BridgedChannelFactory::Cut(absl::string_view peer_id) {
  absl::MutexLock lock(&mu_);
  controls_[peer_id].cut = true;
  if (auto it = links_.find(peer_id); it != links_.end()) {
    it->second.ForEachBridge([](LinkBridge& b) { b.Cut(); });
  }
}

void BridgedChannelFactory::Heal(absl::string_view peer_id) {
  absl::MutexLock lock(&mu_);
  controls_[peer_id].cut = false;
  if (auto it = links_.find(peer_id); it != links_.end()) {
    it->second.ForEachBridge([](LinkBridge& b) { b.Heal(); });
  }
}

void BridgedChannelFactory::Blackhole(absl::string_view peer_id, bool on) {
  absl::MutexLock lock(&mu_);
  controls_[peer_id].blackholed = on;
  if (auto it = links_.find(peer_id); it != links_.end()) {
    it->second.ForEachBridge([on](LinkBridge& b) { b.Blackhole(on); });
  }
}

void BridgedChannelFactory::SetLatency(absl::string_view peer_id, absl::Duration one_way) {
  absl::MutexLock lock(&mu_);
  controls_[peer_id].latency = one_way;
  if (auto it = links_.find(peer_id); it != links_.end()) {
    it->second.ForEachBridge([one_way](LinkBridge& b) { b.SetLatency(one_way); });
  }
}

std::optional<absl::Duration> BridgedChannelFactory::Latency(absl::string_view peer_id) const {
  absl::MutexLock lock(&mu_);
  auto it = links_.find(peer_id);
  if (it == links_.end()) return std::nullopt;
  return it->second.bridge->latency();
}

std::optional<LinkBridgeStats> BridgedChannelFactory::Stats(absl::string_view peer_id) const {
  absl::MutexLock lock(&mu_);
  auto it = links_.find(peer_id);
  if (it == links_.end()) return std::nullopt;
  return it->second.bridge->stats();
}

std::optional<std::string> BridgedChannelFactory::BridgeAddress(absl::string_view peer_id) const {
  absl::MutexLock lock(&mu_);
  auto it = links_.find(peer_id);
  if (it == links_.end()) return std::nullopt;
  return it->second.bridge->address();
}

}  // namespace kv
