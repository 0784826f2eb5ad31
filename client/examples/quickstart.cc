// A tour of the EdgeKV C++ SDK against a running node:
//   scripts/cluster up && build/bin/kv-example-quickstart 127.0.0.1:7400

#include <cstdio>

#include "client/client.h"

int main(int argc, char** argv) {
  kv::ClientOptions options;
  if (argc > 1) options.endpoint = argv[1];
  kv::Client client = kv::Client::Connect(options);

  absl::StatusOr<kv::Namespace> ns = client.CreateNamespace("quickstart-sessions");
  if (ns.status().code() == absl::StatusCode::kAlreadyExists) {
    // Reuse the namespace from an earlier run.
    absl::StatusOr<std::vector<kv::Namespace>> all = client.ListNamespaces();
    if (!all.ok()) return std::fprintf(stderr, "%s\n", all.status().ToString().c_str()), 1;
    for (const kv::Namespace& n : *all) {
      if (n.title == "quickstart-sessions") ns = n;
    }
  }
  if (!ns.ok()) return std::fprintf(stderr, "%s\n", ns.status().ToString().c_str()), 1;

  // A session token that expires in an hour, with metadata.
  absl::Status put = client.Put(ns->id, "session:42", "token-abc",
                                {.expiration_ttl = absl::Hours(1),
                                 .metadata = R"({"user":42,"plan":"pro"})"});
  if (!put.ok()) return std::fprintf(stderr, "put: %s\n", put.ToString().c_str()), 1;

  absl::StatusOr<std::optional<kv::ValueWithMetadata>> got =
      client.GetWithMetadata(ns->id, "session:42");
  if (!got.ok()) return std::fprintf(stderr, "get: %s\n", got.status().ToString().c_str()), 1;
  if (got->has_value()) {
    std::printf("session:42 = %s, metadata %s, expires %s\n", (*got)->value.c_str(),
                (*got)->metadata.value_or("null").c_str(),
                (*got)->expiration ? absl::FormatTime(*(*got)->expiration).c_str() : "never");
  }

  // A missing key is not an error.
  absl::StatusOr<std::optional<std::string>> missing = client.Get(ns->id, "session:none");
  std::printf("session:none %s\n", missing.ok() && !missing->has_value() ? "is absent" : "?");

  // List keys by prefix, page by page.
  kv::ListOptions list{.prefix = "session:", .limit = 100};
  for (;;) {
    absl::StatusOr<kv::ListResult> page = client.List(ns->id, list);
    if (!page.ok()) return std::fprintf(stderr, "list: %s\n", page.status().ToString().c_str()), 1;
    for (const kv::ListedKey& k : page->keys) std::printf("listed %s\n", k.name.c_str());
    if (page->list_complete) break;
    list.cursor = page->cursor;
  }

  // Errors carry the Workers KV message.
  absl::Status bad = client.Put(ns->id, "", "x");
  std::printf("empty key: %s\n", bad.ToString().c_str());
  return 0;
}
