// kvctl: the EdgeKV command line, after `wrangler kv`. This file only defines the flags
// (CLI11) and dispatches to the commands in this directory, which hold the logic.

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/options.h"
#include "tools/kvctl/bulk_commands.h"
#include "tools/kvctl/command_io.h"
#include "tools/kvctl/key_commands.h"
#include "tools/kvctl/namespace_commands.h"

namespace kv::kvctl {
namespace {

constexpr char kEndpointEnv[] = "KVCTL_ENDPOINT";

constexpr char kTopFooter[] = R"(
Examples:
  kvctl namespace create sessions
  kvctl key put greeting "hello" --namespace-id=<ID>
  kvctl key get greeting --namespace-id=<ID>
  kvctl bulk put data.json --namespace-id=<ID>

Output: JSON on stdout, except `key get`, which writes the raw value. Errors go to
stderr, prefixed "kvctl: ". A progress bar is drawn on stderr for long bulk jobs, only
when stderr is a terminal.

Environment:
  KVCTL_ENDPOINT  default for --endpoint (host:port of any node)

Exit codes:
  0  success
  1  the node or the SDK refused or failed a request (its message is on stderr), or
     some keys of a bulk put failed
  2  usage error: bad flags or arguments, an unreadable or malformed input file
  3  key get: the key does not exist ("Value not found" on stderr))";

constexpr char kBulkPutFormat[] = R"(
FILE is a JSON array of objects ("-" reads stdin):
  [{"key": "k1", "value": "text"},
   {"key": "k2", "value": "AAEC", "base64": true, "expiration_ttl": 3600},
   {"key": "k3", "value": "v", "expiration": 1900000000, "metadata": {"a": 1}}]
"key" and "value" are required strings; "value" is UTF-8 text unless "base64" is true.
"expiration" (seconds since the UNIX epoch) and "expiration_ttl" (seconds, >= 60) are
integers; "metadata" is any JSON value (<= 1024 bytes serialised). Unknown fields are
ignored with a warning. The whole file is checked before anything is sent; errors name
the item, counted from 0.

Items go in requests of at most 10,000 items and 100 MiB. Prints
  {"successful_key_count": N, "unsuccessful_keys": [{"key": "...", "error": "..."}]}
and exits 1 if any key failed.

Example:
  kvctl bulk put data.json --namespace-id=<ID>)";

// Every flag's storage. Only one leaf command is parsed per run, so leaves share fields.
struct Flags {
  // Global: every command accepts them.
  std::string endpoint;
  double timeout_seconds = 60;

  std::string namespace_id;
  std::string title;
  std::string key;
  std::string value;
  std::string path;
  std::string file;
  std::string metadata;
  std::string prefix;
  std::string cursor;
  int64_t ttl = 0;
  int64_t expiration = 0;
  int64_t limit = 0;
  bool with_metadata = false;
};

// A leaf command, run after parsing with the client the global flags describe.
struct Leaf {
  CLI::App* app;
  std::function<int(const Client&, const CommandIo&)> run;
};

std::string DefaultEndpoint() {
  const char* env = std::getenv(kEndpointEnv);
  return env != nullptr && *env != '\0' ? env : kDefaultEndpoint;
}

// Accepts a number of seconds above zero (a zero deadline would fail every call).
CLI::Validator PositiveSeconds() {
  return CLI::Validator(
      [](std::string& input) -> std::string {
        char* end = nullptr;
        const double seconds = std::strtod(input.c_str(), &end);
        if (end == input.c_str() || *end != '\0' || !(seconds > 0)) {
          return "must be a number of seconds above 0, not \"" + input + "\"";
        }
        return "";
      },
      /*validator_desc=*/"");
}

// Adds --endpoint and --timeout to `app`. Each leaf gets them too (after its own flags),
// so they work before or after the command's arguments and show in its help.
void AddGlobalFlags(CLI::App* app, Flags* f) {
  app->add_option("--endpoint", f->endpoint,
                  "host:port of any EdgeKV node (default: $KVCTL_ENDPOINT, else " +
                      std::string(kDefaultEndpoint) + ")")
      ->type_name("HOST:PORT");
  app->add_option("--timeout", f->timeout_seconds,
                  "deadline of each request in seconds; raise it for big values and bulk "
                  "files (default: 60)")
      ->type_name("SECONDS")
      ->check(PositiveSeconds());
}

CLI::App* AddLeaf(CLI::App* parent, const std::string& name, const std::string& description,
                  const std::string& footer) {
  CLI::App* leaf = parent->add_subcommand(name, description);
  leaf->footer(footer);
  return leaf;
}

CLI::App* AddGroup(CLI::App* app, const std::string& name, const std::string& description,
                   const std::string& example, Flags* f) {
  CLI::App* group = app->add_subcommand(name, description);
  group->footer("\nExample:\n  " + example);
  group->require_subcommand(1);
  AddGlobalFlags(group, f);
  return group;
}

void AddNamespaceId(CLI::App* app, Flags* f) {
  app->add_option("--namespace-id", f->namespace_id, "id of the namespace (32 hex characters)")
      ->type_name("ID")
      ->required();
}

void AddKeyArg(CLI::App* app, Flags* f) {
  app->add_option("KEY", f->key, "the key, 1..512 UTF-8 bytes")->required();
}

void AddNamespaceCommands(CLI::App* app, Flags* f, std::vector<Leaf>* leaves) {
  CLI::App* group = AddGroup(app, "namespace", "Create, list, rename and delete namespaces",
                             "kvctl namespace list", f);

  CLI::App* create = AddLeaf(group, "create", "Create a namespace; prints {\"id\", \"title\"}",
                             "\nExample:\n  kvctl namespace create sessions");
  create->add_option("TITLE", f->title, "unique title, 1..512 bytes")->required();
  leaves->push_back({create, [f](const Client& c, const CommandIo& io) {
                       return CreateNamespaceCommand(c, f->title, io);
                     }});

  CLI::App* list = AddLeaf(group, "list", "List namespaces; prints [{\"id\", \"title\"}, ...]",
                           "\nExample:\n  kvctl namespace list");
  leaves->push_back(
      {list, [](const Client& c, const CommandIo& io) { return ListNamespacesCommand(c, io); }});

  CLI::App* rename =
      AddLeaf(group, "rename", "Rename a namespace; prints {\"id\", \"title\"}",
              "\nExample:\n  kvctl namespace rename sessions-v2 --namespace-id=<ID>");
  rename->add_option("NEW_TITLE", f->title, "the new unique title")->required();
  AddNamespaceId(rename, f);
  leaves->push_back({rename, [f](const Client& c, const CommandIo& io) {
                       return RenameNamespaceCommand(c, f->namespace_id, f->title, io);
                     }});

  CLI::App* remove = AddLeaf(group, "delete", "Delete a namespace and all its keys",
                             "\nPrints {\"success\": true} and a confirmation on stderr.\n\n"
                             "Example:\n  kvctl namespace delete --namespace-id=<ID>");
  AddNamespaceId(remove, f);
  leaves->push_back({remove, [f](const Client& c, const CommandIo& io) {
                       return DeleteNamespaceCommand(c, f->namespace_id, io);
                     }});
}

void AddKeyPut(CLI::App* group, Flags* f, std::vector<Leaf>* leaves) {
  CLI::App* put = AddLeaf(
      group, "put", "Write a key (value, metadata and expiration together)",
      "\nGive the value as VALUE or read it from a file with --path (raw bytes, up to 25 MiB;\n"
      "\"-\" reads stdin). With both --ttl and --expiration, --ttl wins. Prints\n"
      "{\"success\": true}.\n\nExamples:\n"
      "  kvctl key put greeting \"hello\" --namespace-id=<ID> --ttl 3600\n"
      "  kvctl key put logo --path logo.png --namespace-id=<ID> --metadata '{\"type\":\"png\"}'");
  AddKeyArg(put, f);
  CLI::Option* value = put->add_option("VALUE", f->value, "the value as text (or use --path)");
  CLI::Option* path = put->add_option("--path", f->path, "read the value from FILE as raw bytes")
                          ->type_name("FILE");
  AddNamespaceId(put, f);
  CLI::Option* ttl = put->add_option("--ttl", f->ttl, "expire this many seconds from now (>= 60)")
                         ->type_name("SECONDS");
  CLI::Option* expiration =
      put->add_option("--expiration", f->expiration,
                      "expire at this time, in seconds since the UNIX epoch (>= now + 60)")
          ->type_name("EPOCH_SECONDS");
  CLI::Option* metadata =
      put->add_option("--metadata", f->metadata, "any JSON value, <= 1024 bytes serialised")
          ->type_name("JSON");
  leaves->push_back({put, [=](const Client& c, const CommandIo& io) {
                       PutKeyArgs args{.namespace_id = f->namespace_id, .key = f->key};
                       if (value->count() > 0) args.value = f->value;
                       if (path->count() > 0) args.path = f->path;
                       if (ttl->count() > 0) args.ttl_seconds = f->ttl;
                       if (expiration->count() > 0) args.expiration_seconds = f->expiration;
                       if (metadata->count() > 0) args.metadata = f->metadata;
                       return PutKeyCommand(c, args, io);
                     }});
}

void AddKeyGetAndDelete(CLI::App* group, Flags* f, std::vector<Leaf>* leaves) {
  CLI::App* get = AddLeaf(
      group, "get", "Read a key; writes the raw value to stdout",
      "\nThe value is written byte for byte, with no newline added. --with-metadata prints\n"
      "{\"value\", \"base64\", \"metadata\", \"expiration\"} instead, where \"value\" is base64\n"
      "(and \"base64\" true) when the value is not valid UTF-8. A missing key prints\n"
      "\"Value not found\" on stderr and exits 3.\n\nExamples:\n"
      "  kvctl key get greeting --namespace-id=<ID>\n"
      "  kvctl key get logo --namespace-id=<ID> > logo.png");
  AddKeyArg(get, f);
  AddNamespaceId(get, f);
  get->add_flag("--with-metadata", f->with_metadata,
                "print JSON with the value, metadata and expiration");
  leaves->push_back({get, [f](const Client& c, const CommandIo& io) {
                       return GetKeyCommand(c, {f->namespace_id, f->key, f->with_metadata}, io);
                     }});

  CLI::App* remove = AddLeaf(group, "delete", "Delete a key (fine if it does not exist)",
                             "\nPrints {\"success\": true}.\n\nExample:\n"
                             "  kvctl key delete greeting --namespace-id=<ID>");
  AddKeyArg(remove, f);
  AddNamespaceId(remove, f);
  leaves->push_back({remove, [f](const Client& c, const CommandIo& io) {
                       return DeleteKeyCommand(c, f->namespace_id, f->key, io);
                     }});
}

void AddKeyList(CLI::App* group, Flags* f, std::vector<Leaf>* leaves) {
  CLI::App* list = AddLeaf(
      group, "list", "List keys in UTF-8 byte order",
      "\nWithout --limit or --cursor, follows every page and prints\n"
      "  [{\"name\": \"...\", \"expiration\": N, \"metadata\": ...}, ...]\n"
      "(expiration and metadata only when set). With --limit or --cursor, prints one page:\n"
      "  {\"keys\": [...], \"list_complete\": false, \"cursor\": \"...\"}\n"
      "(\"cursor\" only when list_complete is false; pass it with the same --prefix).\n\n"
      "Examples:\n"
      "  kvctl key list --namespace-id=<ID> --prefix user:\n"
      "  kvctl key list --namespace-id=<ID> --limit 100 --cursor <CURSOR>");
  AddNamespaceId(list, f);
  list->add_option("--prefix", f->prefix, "only keys starting with these bytes (literal)")
      ->type_name("PREFIX");
  CLI::Option* limit =
      list->add_option("--limit", f->limit, "one page of at most N keys (1..1000)")->type_name("N");
  CLI::Option* cursor =
      list->add_option("--cursor", f->cursor, "one page, after this cursor from an earlier page")
          ->type_name("CURSOR");
  leaves->push_back({list, [=](const Client& c, const CommandIo& io) {
                       ListKeysArgs args{.namespace_id = f->namespace_id, .prefix = f->prefix};
                       if (limit->count() > 0) args.limit = f->limit;
                       if (cursor->count() > 0) args.cursor = f->cursor;
                       return ListKeysCommand(c, args, io);
                     }});
}

void AddKeyCommands(CLI::App* app, Flags* f, std::vector<Leaf>* leaves) {
  CLI::App* group = AddGroup(app, "key", "Write, read, delete and list single keys",
                             "kvctl key get greeting --namespace-id=<ID>", f);
  AddKeyPut(group, f, leaves);
  AddKeyGetAndDelete(group, f, leaves);
  AddKeyList(group, f, leaves);
}

using BulkCommand = int (*)(const Client&, const BulkArgs&, const CommandIo&);

// Adds a bulk leaf taking FILE and --namespace-id, run by `command`.
CLI::App* AddBulkLeaf(CLI::App* group, const std::string& name, const std::string& description,
                      const std::string& footer, Flags* f, BulkCommand command,
                      std::vector<Leaf>* leaves) {
  CLI::App* leaf = AddLeaf(group, name, description, footer);
  leaf->add_option("FILE", f->file, "the JSON file, or - for stdin")->required();
  AddNamespaceId(leaf, f);
  leaves->push_back({leaf, [f, command](const Client& c, const CommandIo& io) {
                       return command(c, {f->namespace_id, f->file, f->with_metadata}, io);
                     }});
  return leaf;
}

void AddBulkCommands(CLI::App* app, Flags* f, std::vector<Leaf>* leaves) {
  CLI::App* group = AddGroup(app, "bulk", "Write, read or delete many keys from a JSON file",
                             "kvctl bulk put data.json --namespace-id=<ID>", f);
  AddBulkLeaf(group, "put", "Write the keys of a JSON file", kBulkPutFormat, f, &BulkPutCommand,
              leaves);
  CLI::App* get = AddBulkLeaf(
      group, "get", "Read the keys listed in a JSON file",
      "\nFILE is a JSON array of keys: [\"k1\", \"k2\"] (objects with a \"key\" field work too).\n"
      "Keys go in requests of at most 100. Prints {\"k1\": \"value\", \"k2\": null} (null: "
      "missing),\n"
      "or with --with-metadata {\"k1\": {\"value\": ..., \"metadata\": ...}, \"k2\": null}.\n"
      "Values that are not valid UTF-8 appear as {\"base64\": \"...\"}.\n\n"
      "Example:\n  kvctl bulk get keys.json --namespace-id=<ID> --with-metadata",
      f, &BulkGetCommand, leaves);
  get->add_flag("--with-metadata", f->with_metadata, "include each key's metadata");
  AddBulkLeaf(
      group, "delete", "Delete the keys listed in a JSON file",
      "\nFILE is a JSON array of keys: [\"k1\", \"k2\"]; objects with a \"key\" field work too,\n"
      "so a bulk put file can be reused. Keys go in requests of at most 10,000. Prints\n"
      "{\"successful_key_count\": N}.\n\n"
      "Example:\n  kvctl bulk delete keys.json --namespace-id=<ID>",
      f, &BulkDeleteCommand, leaves);
}

// "kvctl key put" for the deepest subcommand the user selected.
std::string CommandPath(const CLI::App* app) {
  std::string path = app->get_name();
  for (std::vector<CLI::App*> selected = app->get_subcommands(); !selected.empty();
       selected = selected[0]->get_subcommands()) {
    path += " " + selected[0]->get_name();
  }
  return path;
}

int Run(int argc, char** argv) {
  CLI::App app("kvctl manages EdgeKV namespaces and keys, like `wrangler kv`.", "kvctl");
  app.require_subcommand(1);
  Flags flags{.endpoint = DefaultEndpoint()};
  AddGlobalFlags(&app, &flags);
  std::vector<Leaf> leaves;
  AddNamespaceCommands(&app, &flags, &leaves);
  AddKeyCommands(&app, &flags, &leaves);
  AddBulkCommands(&app, &flags, &leaves);
  for (const Leaf& leaf : leaves) AddGlobalFlags(leaf.app, &flags);
  // Set last: subcommands inherit the footer that is set when they are added.
  app.footer(kTopFooter);
  app.failure_message([](const CLI::App* a, const CLI::Error& e) {
    return "kvctl: " + std::string(e.what()) + "\nRun `" + CommandPath(a) + " --help` for usage.\n";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version exit 0; every other parse error is a usage error.
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }

  const Client client = Client::Connect(
      {.endpoint = flags.endpoint, .timeout = absl::Seconds(flags.timeout_seconds)});
  const CommandIo io{.out = &std::cout,
                     .err = &std::cerr,
                     .in = &std::cin,
                     .progress = isatty(STDERR_FILENO) ? &std::cerr : nullptr};
  for (const Leaf& leaf : leaves) {
    if (leaf.app->parsed()) return leaf.run(client, io);
  }
  return ReportError(io, "no command given; see kvctl --help", kExitUsage);
}

}  // namespace
}  // namespace kv::kvctl

int main(int argc, char** argv) {
  std::ios::sync_with_stdio(false);
  try {
    return kv::kvctl::Run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "kvctl: internal error: " << e.what() << "\n";
    return kv::kvctl::kExitError;
  }
}
