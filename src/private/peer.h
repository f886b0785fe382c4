/* The peer of a connected socket, for reports: what every adapter asks of the socket under its TLS
 * stack, once it has found it its stack's way. */
#ifndef CP_PEER_H
#define CP_PEER_H

/* The port of the peer fd is connected to (IPv4 or IPv6); 0 when fd is not a connected socket of
 * either family. */
int cp_fd_peer_port(int fd);

#endif /* CP_PEER_H */
