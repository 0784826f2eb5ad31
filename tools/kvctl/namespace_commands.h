#ifndef KV_TOOLS_KVCTL_NAMESPACE_COMMANDS_H_
#define KV_TOOLS_KVCTL_NAMESPACE_COMMANDS_H_

// `kvctl namespace create|list|rename|delete`. Each returns the process exit code
// (command_io.h) after writing its JSON result to io.out or its error to io.err.

#include <string>

#include "client/client.h"
#include "tools/kvctl/command_io.h"

namespace kv::kvctl {

// Prints {"id", "title"} of the new namespace.
int CreateNamespaceCommand(const Client& client, const std::string& title, const CommandIo& io);

// Prints [{"id", "title"}, ...].
int ListNamespacesCommand(const Client& client, const CommandIo& io);

// Prints {"id", "title"} after the rename.
int RenameNamespaceCommand(const Client& client, const std::string& namespace_id,
                           const std::string& title, const CommandIo& io);

// Deletes the namespace and all its keys; prints {"success": true} and a confirmation
// line on io.err.
int DeleteNamespaceCommand(const Client& client, const std::string& namespace_id,
                           const CommandIo& io);

}  // namespace kv::kvctl

#endif  // KV_TOOLS_KVCTL_NAMESPACE_COMMANDS_H_
