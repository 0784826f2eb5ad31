#ifndef KV_COMMON_TESTING_FREE_PORT_H_
#define KV_COMMON_TESTING_FREE_PORT_H_

// For tests that must name a fixed port (cluster files, joining nodes announcing their
// address): a loopback port that was free a moment ago, or 0 if none could be found.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace kv::testing {

inline int PickFreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

}  // namespace kv::testing

#endif  // KV_COMMON_TESTING_FREE_PORT_H_
