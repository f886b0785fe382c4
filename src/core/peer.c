/* The peer of a connected socket (see private/peer.h). */
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include "private/peer.h"

int cp_fd_peer_port(int fd)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &len) != 0) {
        return 0;
    }
    if (ss.ss_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
        struct sockaddr_in in4;
        memcpy(&in4, &ss, sizeof(in4));
        return ntohs(in4.sin_port);
    }
    if (ss.ss_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
        struct sockaddr_in6 in6;
        memcpy(&in6, &ss, sizeof(in6));
        return ntohs(in6.sin6_port);
    }
    return 0;
}
