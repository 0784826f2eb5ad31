#include "node/resp_commands.h"

#include <prometheus/counter.h>
#include <prometheus/registry.h>

#include <memory>
#include <optional>
#include <utility>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "common/validation.h"
#include "node/put_options.h"
#include "node/resp_protocol.h"
#include "storage/blob.h"
#include "storage/store.h"

namespace kv::node {

namespace {

constexpr const char* kCommandNames[] = {"hget", "hmget",  "hexists",   "ping",
                                         "quit", "kv.put", "kv.delete", "other"};

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

std::string StatusReply(const absl::Status& status) {
  std::string out;
  AppendStatus(status, &out);
  return out;
}

// Parses a KV.PUT option's integer.
absl::StatusOr<int64_t> ParseSeconds(absl::string_view option, absl::string_view text) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(text, &v)) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, " must be an integer number of seconds, not '", text.substr(0, 64),
                     "'"));
  }
  return v;
}

}  // namespace

RespCommands::RespCommands(const ServiceContext* context, prometheus::Registry* registry)
    : ctx_(context) {
  if (registry == nullptr) return;
  auto& family = prometheus::BuildCounter()
                     .Name("kv_resp_commands_total")
                     .Help("Commands answered on the RESP port, by command and result")
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

bool RespCommands::Execute(const std::vector<absl::string_view>& args, std::string* out,
                           std::optional<RespWrite>* write) const {
  const std::string name = absl::AsciiStrToUpper(args[0]);
  if (name == "KV.PUT" || name == "KV.DELETE") {
    const Command command = name == "KV.PUT" ? Command::kKvPut : Command::kKvDelete;
    const bool arity_ok = command == Command::kKvPut ? args.size() >= 4 && args.size() % 2 == 0
                                                     : args.size() == 3;
    if (!arity_ok) {
      Count(command, false);
      AppendArity(name, out);
      return true;
    }
    if (ctx_->forwarder != nullptr) {
      Count(command, false);
      AppendError(absl::StrCat("READONLY this edge does not take writes on its RESP port: send ",
                               name, " to the origin's, or write through this node's gRPC API "
                               "(it forwards writes to the origin)"),
                  out);
      return true;
    }
    absl::StatusOr<RespWrite> parsed = ParseWrite(command, args);
    if (!parsed.ok()) {
      Count(command, false);
      AppendStatus(parsed.status(), out);
      return true;
    }
    *write = std::move(*parsed);
    return true;
  }
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
      AppendError(absl::StrCat("READONLY ", name, " is not served: write with KV.PUT and "
                               "KV.DELETE on the origin's RESP port, or through the gRPC API"),
                  out);
      return true;
    }
  }
  AppendError(absl::StrCat("ERR unknown command '", args[0].substr(0, 64),
                           "': this port serves HGET, HMGET, HEXISTS, KV.PUT, KV.DELETE, PING "
                           "and QUIT"),
              out);
  return true;
}

absl::StatusOr<RespWrite> RespCommands::ParseWrite(
    Command command, const std::vector<absl::string_view>& args) const {
  // The checks and their order are Put's and Delete's: namespace, key, value size,
  // metadata, expiration.
  KV_RETURN_IF_ERROR(ctx_->CheckNamespace(args[1]));
  if (command == Command::kKvDelete) {
    KV_RETURN_IF_ERROR(ValidateKey(args[2]));
    return storage::DeleteValue{std::string(args[1]), std::string(args[2])};
  }
  kv::v1::PutRequest request;
  request.set_key(std::string(args[2]));
  request.set_value_size(static_cast<int64_t>(args[3].size()));
  for (size_t i = 4; i + 1 < args.size(); i += 2) {
    const std::string option = absl::AsciiStrToUpper(args[i]);
    const absl::string_view text = args[i + 1];
    if (option == "EXPIRATION" && !request.has_expiration()) {
      KV_ASSIGN_OR_RETURN(int64_t v, ParseSeconds(option, text));
      request.set_expiration(v);
    } else if (option == "EXPIRATION_TTL" && !request.has_expiration_ttl()) {
      KV_ASSIGN_OR_RETURN(int64_t v, ParseSeconds(option, text));
      request.set_expiration_ttl(v);
    } else if (option == "METADATA" && !request.has_metadata()) {
      request.set_metadata(std::string(text));
    } else if (option == "EXPIRATION" || option == "EXPIRATION_TTL" || option == "METADATA") {
      return absl::InvalidArgumentError(absl::StrCat("KV.PUT option ", option, " given twice"));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("KV.PUT has no option '", args[i].substr(0, 64),
                       "' (it takes EXPIRATION, EXPIRATION_TTL and METADATA)"));
    }
  }
  KV_ASSIGN_OR_RETURN(PutOptions options, ValidatePut(request, ctx_->clock->Now()));
  storage::PutValue put;
  put.ns_id = std::string(args[1]);
  put.key = std::string(args[2]);
  put.inline_value = std::string(args[3]);
  put.expiration = options.expiration;
  put.metadata = std::move(options.metadata);
  return put;
}

void RespCommands::Commit(RespWrite write, ReplyDone done) const {
  if (auto* del = std::get_if<storage::DeleteValue>(&write)) {
    return CommitMutation(Command::kKvDelete, storage::Mutation{std::move(*del)},
                          std::move(done));
  }
  // As Put: a value over the store's inline limit is stored in chunks first. The builder
  // lives until the put is handed on (or failed).
  struct Op {
    std::unique_ptr<storage::ValueBuilder> builder;
    storage::PutValue put;
    ReplyDone done;
  };
  auto op = std::make_shared<Op>();
  op->builder = ctx_->store->NewValueBuilder();
  op->put = std::move(std::get<storage::PutValue>(write));
  op->done = std::move(done);
  if (ctx_->metrics) {
    ctx_->metrics->AddValueBytesIn(static_cast<int64_t>(op->put.inline_value.size()));
  }
  auto fail = [this, op](const absl::Status& s) {
    Count(Command::kKvPut, false);
    op->done(StatusReply(s));
  };
  auto finish = [this, op, fail] {
    op->builder->Finish([this, op, fail](absl::StatusOr<storage::ValueRef> value) {
      if (!value.ok()) return fail(value.status());
      op->put.inline_value = std::move(value->inline_value);
      op->put.blob = value->blob;
      CommitMutation(Command::kKvPut, storage::Mutation{std::move(op->put)}, std::move(op->done));
    });
  };
  // The builder takes its own copy; the put gets the value back from Finish.
  const std::string value = std::exchange(op->put.inline_value, {});
  if (op->builder->Append(value, [fail, finish](absl::Status s) { s.ok() ? finish() : fail(s); })) {
    finish();
  }
}

void RespCommands::CommitMutation(Command command, storage::Mutation mutation,
                                  ReplyDone done) const {
  std::vector<storage::Mutation> m;
  m.push_back(std::move(mutation));
  ctx_->store->Commit(std::move(m), [this, command, done = std::move(done)](
                                        storage::CommitResult result) mutable {
    const absl::Status s = result.FirstError();
    Count(command, s.ok());
    std::string reply;
    if (s.ok()) {
      AppendInteger(static_cast<int64_t>(result.sequence), &reply);
    } else {
      AppendStatus(s, &reply);
    }
    done(std::move(reply));
  });
}

}  // namespace kv::node
