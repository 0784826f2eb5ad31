#include "tools/kvctl/namespace_commands.h"

#include <ostream>

#include "tools/kvctl/output_json.h"

namespace kv::kvctl {

int CreateNamespaceCommand(const Client& client, const std::string& title, const CommandIo& io) {
  absl::StatusOr<Namespace> ns = client.CreateNamespace(title);
  if (!ns.ok()) return ReportStatus(io, ns.status());
  WriteJson(*io.out, NamespaceToJson(*ns));
  return kExitOk;
}

int ListNamespacesCommand(const Client& client, const CommandIo& io) {
  absl::StatusOr<std::vector<Namespace>> list = client.ListNamespaces();
  if (!list.ok()) return ReportStatus(io, list.status());
  Json out = Json::array();
  for (const Namespace& ns : *list) out.push_back(NamespaceToJson(ns));
  WriteJson(*io.out, out);
  return kExitOk;
}

int RenameNamespaceCommand(const Client& client, const std::string& namespace_id,
                           const std::string& title, const CommandIo& io) {
  absl::StatusOr<Namespace> ns = client.RenameNamespace(namespace_id, title);
  if (!ns.ok()) return ReportStatus(io, ns.status());
  WriteJson(*io.out, NamespaceToJson(*ns));
  return kExitOk;
}

int DeleteNamespaceCommand(const Client& client, const std::string& namespace_id,
                           const CommandIo& io) {
  if (absl::Status s = client.DeleteNamespace(namespace_id); !s.ok()) return ReportStatus(io, s);
  WriteJson(*io.out, Json{{"success", true}});
  *io.err << "Deleted namespace " << namespace_id << " and all its keys.\n";
  return kExitOk;
}

}  // namespace kv::kvctl
