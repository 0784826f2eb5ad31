#include "node/resp_commands.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/validation.h"
#include "node/resp_protocol.h"
#include "storage/store.h"

namespace kv::node {

namespace {

constexpr const char* kCommandNames[] = {"hget", "hmget", "hexists", "ping", "quit", "other"};

// The error reply for a failed read: Redis's generic "ERR" kind and our message, which
// is the same text the gRPC API gives.
void AppendStatus(const absl::Status& status, std::string* out) {
  AppendError(absl::StrCat("ERR ", status.message()), out);
}

void AppendArity(absl::string_view name, std::string* out) {
  AppendError(absl::StrCat("ERR wrong number of arguments for '", absl::AsciiStrToLower(name),
                           "' command"),
              out);
}

}  // namespace

RespCommands::RespCommands(const ServiceContext* context, prometheus::Registry* registry)
    : ctx_(context) {
  if (registry == nullptr) return;
  auto& family = prometheus::BuildCounter()
                     .Name("kv_resp_commands_total")
                     .Help("Commands answered on the RESP read port, by command and result")
                     .Register(*registry);
  for (int c = 0; c < static_cast<int>(Command::kCount); ++c) {
    counters_[c][0] = &family.Add({{"command", kCommandNames[c]}, {"result", "ok"}});
    counters_[c][1] = &family.Add({{"command", kCommandNames[c]}, {"result", "error"}});
  }
}

void RespCommands::Count(Command command, bool ok) const {
  if (prometheus::Counter* c = counters_[static_cast<int>(command)][ok ? 0 : 1]) c->Increment();
}

absl::Status RespCommands::AppendValue(const storage::StoredValue& value,
                                       std::string* out) const {
  if (!value.blob) {
    AppendBulkString(value.inline_value, out);
  } else {
    // A chunked value is read at its snapshot chunk by chunk; on an error nothing of it
    // stays in `out`, and chunks that do not add up to the value's size (which would
    // break the reply's framing) are an error too.
    const size_t start = out->size();
    AppendBulkHeader(static_cast<size_t>(value.size), out);
    const size_t data_start = out->size();
    for (uint32_t i = 0; i < value.blob->ref().chunk_count(); ++i) {
      absl::StatusOr<std::string> chunk = value.blob->ReadChunk(i);
      if (!chunk.ok()) {
        out->resize(start);
        return chunk.status();
      }
      out->append(*chunk);
    }
    if (static_cast<int64_t>(out->size() - data_start) != value.size) {
      const size_t got = out->size() - data_start;
      out->resize(start);
      return absl::DataLossError(absl::StrCat("a stored value of ", value.size,
                                              " bytes has chunks of ", got, " bytes"));
    }
    out->append("\r\n");
  }
  if (ctx_->metrics) ctx_->metrics->AddValueBytesOut(value.size);
  return absl::OkStatus();
}

bool RespCommands::Execute(const std::vector<absl::string_view>& args, std::string* out) const {
  const std::string name = absl::AsciiStrToUpper(args[0]);
  if (name == "HGET" || name == "HEXISTS") {
    const Command command = name == "HGET" ? Command::kHget : Command::kHexists;
    if (args.size() != 3) {
      Count(command, false);
      AppendArity(name, out);
      return true;
    }
    absl::Status s = ctx_->CheckNamespace(args[1]);
    if (s.ok()) s = ValidateKey(args[2]);
    absl::StatusOr<std::optional<storage::StoredValue>> got;
    if (s.ok()) {
      got = ctx_->store->Get(args[1], args[2], ctx_->clock->Now());
      s = got.status();
    }
    if (s.ok() && command == Command::kHexists) {
      AppendInteger(got->has_value() ? 1 : 0, out);  // no chunk is read
    } else if (s.ok() && !got->has_value()) {
      AppendNull(out);
    } else if (s.ok()) {
      s = AppendValue(**got, out);
    }
    Count(command, s.ok());
    if (!s.ok()) AppendStatus(s, out);
    return true;
  }
  if (name == "HMGET") {
    if (args.size() < 3) {
      Count(Command::kHmget, false);
      AppendArity(name, out);
      return true;
    }
    // As BulkGet: the namespace, the count, every key and the values' total size are
    // checked before any chunk is read.
    const absl::Span<const absl::string_view> keys = absl::MakeConstSpan(args).subspan(2);
    absl::Status s = ctx_->CheckNamespace(args[1]);
    if (s.ok()) s = ValidateBulkGetCount(static_cast<int64_t>(keys.size()));
    absl::StatusOr<std::vector<std::optional<storage::StoredValue>>> values;
    if (s.ok()) {
      values = ctx_->ReadMany(args[1], keys, /*with_metadata=*/false);
      s = values.status();
    }
    const size_t start = out->size();
    if (s.ok()) {
      AppendArrayHeader(values->size(), out);
      for (size_t i = 0; s.ok() && i < values->size(); ++i) {
        if ((*values)[i]) {
          s = AppendValue(*(*values)[i], out);
        } else {
          AppendNull(out);
        }
      }
    }
    Count(Command::kHmget, s.ok());
    if (!s.ok()) {
      out->resize(start);
      AppendStatus(s, out);
    }
    return true;
  }
  if (name == "PING") {
    const bool ok = args.size() <= 2;
    Count(Command::kPing, ok);
    if (!ok) {
      AppendArity(name, out);
    } else if (args.size() == 2) {
      AppendBulkString(args[1], out);
    } else {
      AppendSimpleString("PONG", out);
    }
    return true;
  }
  if (name == "QUIT") {
    Count(Command::kQuit, true);
    AppendSimpleString("OK", out);
    return false;
  }
  Count(Command::kOther, false);
  static constexpr absl::string_view kWrites[] = {
      "SET",  "SETEX", "PSETEX", "SETNX", "MSET",  "GETSET", "GETDEL", "DEL",   "UNLINK",
      "HSET", "HMSET", "HSETNX", "HDEL",  "EXPIRE", "PEXPIRE", "INCR", "APPEND", "FLUSHDB",
      "FLUSHALL"};
  for (absl::string_view write : kWrites) {
    if (name == write) {
      AppendError(absl::StrCat("READONLY this port serves reads; write through the gRPC API (",
                               name, " is not served here)"),
                  out);
      return true;
    }
  }
  AppendError(absl::StrCat("ERR unknown command '", args[0].substr(0, 64),
                           "': this port serves HGET, HMGET, HEXISTS, PING and QUIT"),
              out);
  return true;
}

}  // namespace kv::node
