/* netpipe: the far end of benchmarks/network.py's TCP streams, built static and bind-mounted
 * into busybox containers (busybox nc reads in small pieces and would measure itself).
 *
 *   netpipe sink PORT     accept connections one at a time; read and discard until EOF
 *   netpipe source PORT   accept connections one at a time; write zeros until the peer closes
 */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static char buffer[1 << 20];

int main(int argc, char **argv) {
    if (argc != 3 || (strcmp(argv[1], "sink") && strcmp(argv[1], "source"))) {
        fprintf(stderr, "usage: netpipe sink|source PORT\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    int sink = strcmp(argv[1], "sink") == 0;
    int listener = socket(AF_INET6, SOCK_STREAM, 0);
    int on = 1, off = 0;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    setsockopt(listener, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    struct sockaddr_in6 address = {.sin6_family = AF_INET6, .sin6_port = htons((unsigned short)atoi(argv[2])), .sin6_addr = in6addr_any};
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 16)) {
        perror("netpipe: bind/listen");
        return 1;
    }
    for (;;) {
        int connection = accept(listener, NULL, NULL);
        if (connection < 0) continue;
        if (sink) {
            while (read(connection, buffer, sizeof buffer) > 0) {}
        } else {
            while (write(connection, buffer, sizeof buffer) > 0) {}
        }
        close(connection);
    }
}
