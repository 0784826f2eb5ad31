#ifndef KV_COMMON_CHANNEL_FACTORY_H_
#define KV_COMMON_CHANNEL_FACTORY_H_

// The one seam through which a node opens gRPC channels to its peers. Production dials
// TCP directly (MakeTcpChannelFactory); tests and modelled-geography runs dial through a
// LinkBridge per peer (BridgedChannelFactory), which delays bytes by the latency model and
// can cut or blackhole single links.

#include <grpcpp/channel.h>
#include <grpcpp/support/channel_arguments.h>

#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/latency_model.h"
#include "common/link_bridge.h"

namespace grpc {
class ServerBuilder;
}  // namespace grpc

namespace kv {

// A node as seen by the nodes that dial it.
struct PeerAddress {
  std::string id;       // unique node id; channels are cached by it
  std::string region;   // for the latency model
  std::string address;  // "host:port" where it serves gRPC
};

// gRPC channel settings for inter-node links.
struct ChannelOptions {
  // Largest message sent or received; -1 means unlimited (peers are trusted, and
  // replication batches are bounded by the sender).
  int max_message_bytes = -1;
  // Reconnect quickly after a peer restarts or a link heals, instead of gRPC's default
  // 1 s .. 120 s backoff.
  absl::Duration initial_reconnect_backoff = absl::Milliseconds(100);
  absl::Duration max_reconnect_backoff = absl::Seconds(1);
  // A ping every keepalive_time, even on an idle link, and the transport is closed when
  // one is not acknowledged within keepalive_timeout: a silently dead peer is noticed
  // within about time + timeout. Servers must accept this rate (ConfigurePeerServer).
  absl::Duration keepalive_time = absl::Seconds(10);
  absl::Duration keepalive_timeout = absl::Seconds(5);
  bool keepalive_permit_without_calls = true;
  // gRPC's bandwidth-delay-product probing sends a PING with received data to size the
  // flow-control window: it helps bulk transfers over long links but costs a PING/ACK
  // exchange (wake-ups on both ends) on a stream of small messages such as replication.
  bool bdp_probe = false;

  // Returns the channel arguments for these options. Besides the fields above it turns
  // off HTTP proxies (links are direct) and uses a per-channel subchannel pool, so two
  // nodes in one process dialling the same peer hold separate connections.
  grpc::ChannelArguments ToChannelArguments() const;
};

// Adds to `builder` the server arguments that let peers dialled with `options` keep
// pinging at their keepalive rate, even without calls, instead of being sent a GOAWAY
// ("too_many_pings"). Call it on the builder of every server peers dial.
void ConfigurePeerServer(const ChannelOptions& options, grpc::ServerBuilder* builder);

// Opens channels to peers. Implementations are thread-safe.
class ChannelFactory {
 public:
  virtual ~ChannelFactory() = default;

  // Returns a channel to `peer`, never null. Cached per peer id: repeated calls return
  // the same shared_ptr while the peer's address and region are unchanged (a changed
  // one gets a new channel). Channels may outlive the factory.
  virtual std::shared_ptr<grpc::Channel> Dial(const PeerAddress& peer) = 0;

  // Returns where to connect for a plain TCP connection to `address`, a port of `peer`'s
  // other than its gRPC one (the replication stream): `address` itself, or a stand-in
  // that carries the connection over the same modelled link as the peer's channel.
  virtual absl::StatusOr<std::string> RouteStream(const PeerAddress& peer,
                                                  const std::string& address) = 0;
};

// Returns a factory dialling peers' addresses directly over TCP (insecure credentials).
std::unique_ptr<ChannelFactory> MakeTcpChannelFactory(ChannelOptions options = {});

// Dials every peer through its own LinkBridge, with latency
// model.OneWay(self_region, peer.region) (zero when the model is disabled). Link controls
// act on the one directed link from this node to a peer; a control given before the
// peer is first dialled applies when it is. Bridges live as long as the factory:
// destroying it resets every link, so its channels then fail with UNAVAILABLE.
// Thread-safe.
class BridgedChannelFactory final : public ChannelFactory {
 public:
  // `self_region` is the region of the node that owns this factory.
  BridgedChannelFactory(std::string self_region, LatencyModel model, ChannelOptions options = {});
  // Stops every bridge, resetting the connections of channels handed out.
  ~BridgedChannelFactory() override;

  // Returns the cached channel to `peer`'s bridge, starting the bridge on first use. If
  // the bridge cannot start (e.g. a non-loopback address) logs why and returns an
  // uncached channel whose calls fail with UNAVAILABLE.
  std::shared_ptr<grpc::Channel> Dial(const PeerAddress& peer) override;
  // A bridge of its own per address, with the link's latency and controls: cutting or
  // blackholing the link acts on it as on the channel's.
  absl::StatusOr<std::string> RouteStream(const PeerAddress& peer,
                                          const std::string& address) override;

  // Resets the link's connections and refuses new ones until Heal (LinkBridge::Cut).
  void Cut(absl::string_view peer_id);
  // Lets the link carry new connections again; the channel reconnects after its backoff.
  void Heal(absl::string_view peer_id);
  // Holds the link's bytes while `on` (LinkBridge::Blackhole).
  void Blackhole(absl::string_view peer_id, bool on);
  // Overrides the modelled one-way latency of the link.
  void SetLatency(absl::string_view peer_id, absl::Duration one_way);

  // Returns the link's current one-way latency; nullopt if `peer_id` was never dialled.
  std::optional<absl::Duration> Latency(absl::string_view peer_id) const;
  // Returns the link's bridge counters; nullopt if `peer_id` was never dialled.
  std::optional<LinkBridgeStats> Stats(absl::string_view peer_id) const;
  // Returns the address the link's channel dials; nullopt if never dialled.
  std::optional<std::string> BridgeAddress(absl::string_view peer_id) const;

 private:
  // What the controls ask of a link, kept so it survives (re)creating the bridge.
  struct LinkControl {
    bool cut = false;
    bool blackholed = false;
    std::optional<absl::Duration> latency;  // overrides the model
  };
  struct Link {
    PeerAddress peer;
    std::unique_ptr<LinkBridge> bridge;
    std::shared_ptr<grpc::Channel> channel;
    // RouteStream's bridges, by the address they stand in for.
    absl::flat_hash_map<std::string, std::unique_ptr<LinkBridge>> streams;
    // Every bridge of the link, for the controls.
    template <typename Fn>
    void ForEachBridge(Fn fn) {
      fn(*bridge);
      for (auto& [address, b] : streams) fn(*b);
    }
  };

  // Dial() with mu_ held; null if the link's bridge cannot start.
  Link* LinkLocked(const PeerAddress& peer, std::shared_ptr<grpc::Channel>* channel)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts a bridge to `target` under the link's current controls.
  absl::StatusOr<std::unique_ptr<LinkBridge>> StartBridgeLocked(const PeerAddress& peer,
                                                                const std::string& target)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const std::string self_region_;
  const LatencyModel model_;
  const ChannelOptions options_;

  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, LinkControl> controls_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, Link> links_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kv

#endif  // KV_COMMON_CHANNEL_FACTORY_H_
