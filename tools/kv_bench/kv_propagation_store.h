#ifndef KV_TOOLS_KV_BENCH_KV_PROPAGATION_STORE_H_
#define KV_TOOLS_KV_BENCH_KV_PROPAGATION_STORE_H_

// PropagationStore over EdgeKV: Write is a Put on the raw gRPC stub (the SDK's Put does
// not return the response header, and the header carries the sequence the write
// committed at), IsVisible is the SDK's Get (a key is visible when Get returns a value),
// both in one namespace. The client should not retry (max_attempts = 1) so that a failed
// probe costs one call.
//
// Thread safety: thread-safe (kv::Client and the stub are).

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "client/client.h"
#include "client/options.h"
#include "kv/v1/kv.grpc.pb.h"
#include "tools/kv_bench/propagation_store.h"

namespace kv::bench {

class KvPropagationStore final : public PropagationStore {
 public:
  // Talks to options.endpoint over one channel, options.timeout per call.
  KvPropagationStore(const kv::ClientOptions& options, std::string namespace_id);

  // Puts `value` at `key` in one message; once durable at the origin, returns the
  // write's replication sequence (from the response header).
  absl::StatusOr<uint64_t> Write(const std::string& key, const std::string& value) override;
  // Gets `key`: true if it has a value. NOT_FOUND means the namespace is unknown here
  // (not replicated yet).
  absl::StatusOr<bool> IsVisible(const std::string& key) override;

 private:
  KvPropagationStore(const kv::ClientOptions& options, std::shared_ptr<grpc::Channel> channel,
                     std::string namespace_id);

  const kv::Client client_;
  const std::unique_ptr<kv::v1::KV::Stub> stub_;
  const absl::Duration timeout_;
  const std::string namespace_id_;
};

}  // namespace kv::bench

#endif  // KV_TOOLS_KV_BENCH_KV_PROPAGATION_STORE_H_
