#ifndef KV_NODE_RESP_SERVER_H_
#define KV_NODE_RESP_SERVER_H_

// A node's RESP port: reads over the Redis protocol (commands in resp_commands.h), for
// clients that want an edge's replica at the cost of a Redis GET, and on the origin
// writes at the cost of a Redis SET plus the commit. A gRPC Get costs
// this 2-core machine about 110 µs of node CPU and 75 µs of client CPU, most of it
// thread hand-offs; here one thread serves every connection from epoll(7), a read is a
// LevelDB lookup, and a client can pipeline.
//
// Invariants / thread safety
// - One event-loop thread owns every connection and runs every command, so commands need
//   no locks of their own and a connection's replies leave in its commands' order.
// - A write is committed by the store's committer, which hands its reply back through a
//   queue and the wake eventfd. Its connection runs no further command until that reply
//   is in its output, so replies keep their order and a command after a write sees it.
//   Writes of different connections group-commit together. A reply for a connection
//   that closed meanwhile is dropped (the write stays committed, as for a gRPC client
//   that went away); one arriving after Stop() is dropped too.
// - Bounded: at most max_connections connections (more are accepted and closed at once,
//   and counted); a command is bounded by resp_protocol.h's limits; a connection whose
//   unsent replies pass max_pending_reply_bytes is not read from until they drain (a
//   client that pipelines without reading holds one reply's worth of memory, not all),
//   no connection runs a command while all of them together hold more than
//   max_total_pending_reply_bytes, and one that takes no reply byte for
//   idle_send_timeout is closed. A command's work is bounded by its reply or is small:
//   HEXISTS reads no chunk, and HMGET checks its total size before reading any.
// - No buffered command is forgotten: whenever a bound stops holding a connection back
//   (its replies drained, or everyone's), its complete commands run without waiting for
//   more input.
// - A client that shuts down its sending side gets the replies to every complete
//   command it sent, then the connection closes.
// - It is an InputLoop (common/input_loop.h): a socket handed to Watch() is served on
//   the same thread, between connections' commands (an edge's replication stream: one
//   wake-up serves a batch and the reads that came with it). A watch ends when its
//   handler says so, or with Stop(). Unlike a command, a watch's handler may wait: the
//   edge's applies each batch it read as a local LevelDB write, and every connection
//   waits meanwhile, as in a Redis replica (the follower keeps backlogs and large
//   values on its own thread, so these are the one or few entries of steady traffic).
// - Stop() (also run by the destructor) closes every connection, ends every watch and
//   joins the thread.
// Thread-safe.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/input_loop.h"
#include "common/socket.h"
#include "node/resp_commands.h"
#include "node/service_context.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
}  // namespace prometheus

namespace kv::node {

struct RespServerOptions {
  // More are answered "-ERR max number of clients reached" and closed. Lowered at start
  // to leave 512 descriptors of the open-file limit to the rest of the node.
  int max_connections = 1024;
  // Above this many unsent reply bytes a connection's further commands wait (a reply of
  // one 25 MiB value is still built whole).
  size_t max_pending_reply_bytes = 1 << 20;
  // The same over every connection together: past it no connection runs a command
  // until replies drain, so replies held in memory stay under this plus one reply.
  size_t max_total_pending_reply_bytes = 256 << 20;
  // A connection with replies pending that takes none of them for this long is closed.
  absl::Duration idle_send_timeout = absl::Seconds(30);
};

class RespServer final : public InputLoop {
 public:
  // Serves `context`'s store on `address` ("host:port"; port 0 picks a free one).
  // `context` must outlive the server; `registry` (may be null) gets kv_resp_* metrics.
  // INVALID_ARGUMENT for a malformed address, UNAVAILABLE if it cannot be bound.
  static absl::StatusOr<std::unique_ptr<RespServer>> Start(const ServiceContext* context,
                                                          prometheus::Registry* registry,
                                                          const std::string& address,
                                                          RespServerOptions options = {});
  ~RespServer() override;
  RespServer(const RespServer&) = delete;
  RespServer& operator=(const RespServer&) = delete;

  // The bound port and "host:port".
  int port() const { return port_; }
  std::string address() const;
  // Connections open now.
  int open_connections() const { return open_.load(); }

  // Closes the listener and every connection, ends every watch and joins the thread.
  // Idempotent.
  void Stop();

  // InputLoop: serves `fd` on the event loop's thread (see input_loop.h).
  void Watch(int fd, absl::AnyInvocable<bool()> on_input,
             absl::AnyInvocable<void(bool loop_stopped)> on_end) override;

 private:
  struct Connection;
  struct Metrics;
  struct Completions;

  RespServer(const ServiceContext* context, prometheus::Registry* registry, std::string host,
             Socket listener, int port, int epoll_fd, int wake_fd, RespServerOptions options);

  void Loop();
  void AcceptAll(absl::Time now);
  // Reads what `c` sent and runs every complete command; false if `c` must close now.
  bool OnReadable(Connection* c);
  // Sends, and runs commands held back while replies were over a bound, until the socket
  // is full or no command can run; then sets epoll's interest. False if `c` must close.
  bool Serve(Connection* c);
  // Parses and runs buffered commands while replies are under both bounds.
  void RunCommands(Connection* c);
  // Sends what is pending; false if `c` failed or is done (QUIT) and must close now.
  bool Flush(Connection* c);
  // Points epoll's interest for `c` at what it waits for (input, output room).
  void UpdateInterest(Connection* c);
  void CloseConnection(int fd, bool dropped);
  // Starts serving the watches handed over since the last call.
  void AdoptWatches();
  // Ends every watch (the loop is stopping), and any handed over later at once.
  void EndWatches();
  // Gives each finished write's reply to its connection and serves it on.
  void DeliverCompletions();

  const RespCommands commands_;
  const std::string host_;
  Socket listener_;
  const int port_;
  const int epoll_fd_;
  const int wake_fd_;  // eventfd: Stop() and finished writes wake the loop through it
  const std::shared_ptr<Completions> completions_;  // shared with writes in flight
  const RespServerOptions options_;
  std::unique_ptr<Metrics> metrics_;
  std::atomic<int> open_{0};
  std::atomic<bool> stopping_{false};
  std::once_flag stop_once_;
  std::thread thread_;

  struct Watched {
    absl::AnyInvocable<bool()> on_input;
    absl::AnyInvocable<void(bool)> on_end;
  };
  std::mutex watch_mu_;
  std::vector<std::pair<int, Watched>> new_watches_;  // guarded by watch_mu_
  bool watches_ended_ = false;                        // guarded by watch_mu_

  // The event loop's own (touched by its thread only).
  std::unordered_map<int, Watched> watched_;
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
  std::vector<int> held_;     // connections waiting for total_pending_ to drop
  size_t total_pending_ = 0;  // unsent reply bytes over every connection
  bool listening_ = true;
  uint64_t next_connection_id_ = 0;
  absl::Time accept_paused_until_ = absl::InfinitePast();
};

}  // namespace kv::node

#endif  // KV_NODE_RESP_SERVER_H_
