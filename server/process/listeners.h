/* listeners.h -- the server's listening sockets: opened from the command line, or inherited
 * (systemd socket activation, or the previous process of a hitless upgrade) and checked. */
#ifndef GREETER_LISTENERS_H
#define GREETER_LISTENERS_H

#include <stddef.h>

#include "systemd.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where the listeners came from: the inherited ones were either handed over by systemd
 * (which keeps owning them) or by the previous process of an upgrade (whose UNIX socket
 * file the new process then owns and removes at exit). */
typedef enum { LISTENERS_OPENED = 0, LISTENERS_SYSTEMD = 1, LISTENERS_UPGRADE = 2 } listeners_origin;

/* The environment variable an upgrading server sets for its successor: "1" when the
 * successor owns the UNIX socket files, "systemd" when systemd does. */
#define LISTENERS_UPGRADE_ENV "GREETER_UPGRADE"

/* The LISTEN_FDNAMES name an upgrading server gives each of the event model's further
 * SO_REUSEPORT sockets (loop_listeners.h); the successor finds their listener by address. */
#define LOOP_LISTENERS_NAME "loop"

/* How long the kernel holds a silent client of a TLS listener before accept() sees it
 * anyway (TCP_DEFER_ACCEPT: Linux rounds it to its SYN-ACK retransmissions, so about 1 s). */
#define LISTENERS_TLS_DEFER_S 1

typedef struct server_listener {
    int fd;
    int udp;     /* a datagram socket */
    int tls;     /* serve TLS on it */
    int is_unix; /* AF_UNIX */
    char name[SYSTEMD_NAME_MAX]; /* LISTEN_FDNAMES entry; "tls", "plain" or "udp" when opened */
    /* The event model's further SO_REUSEPORT listeners on fd's address, one per further loop
     * (loop_listeners.h): served like fd, handed on by an upgrade; owned by the set. */
    int *loop_fds;
    int loop_count;
} server_listener;

/* The most listeners a server serves (each with its loop listeners besides). */
#define LISTENERS_MAX 64

typedef struct listener_set {
    int count;
    listeners_origin origin;
    server_listener items[LISTENERS_MAX];
} listener_set;

/* What the listeners need of the configuration and the model, filled in by the server (the
 * listeners know nothing else of it, so the module that opens sockets does not depend on the
 * one that runs them). */
typedef struct listeners_spec {
    const char *host;      /* -H (tutorial rules) */
    const char *port;      /* -p: number or service name */
    const char *unix_path; /* --unix: listen there instead of host:port */
    int unix_mode;         /* permissions of the UNIX socket file; -1 keeps the umask's */
    int backlog;
    int ipv6_only;
    int udp;               /* --udp */
    int address_given;     /* -H, -p or --unix was given (refused with LISTEN_FDS) */
    int tls;               /* --tls-cert was given: unnamed inherited streams serve TLS */
    int caps;              /* --max-conns or --max-per-ip was given (not for datagrams) */
    int proxy_protocol;    /* --proxy-protocol: connections begin with a PROXY header */
    int workers;           /* -w: the event model's loops */
    const char *model;     /* the model's name, for messages */
    int model_reuseport;   /* the model adds a listener per loop (SO_REUSEPORT) */
    int model_udp;         /* the model serves datagrams */
    int model_one_listener; /* the model serves a single listener (fork, prefork) */
} listeners_spec;

/*
 * Takes the inherited listeners when LISTEN_FDS is set for this process, else opens the one
 * the configuration names. Each inherited socket is used by its kind: TCP or UNIX stream
 * (TLS when its name is "tls" or ends in "-tls", plain when it is "plain" or ends in "-plain",
 * else TLS exactly when --tls-cert is given), UDP or UNIX datagram. A socket of another kind
 * (not a socket, a connected stream, SOCK_SEQPACKET, another family) or one the model or
 * options cannot serve is refused with err naming the descriptor and the fix. TLS listeners
 * over TCP defer accepts until the ClientHello is in (LISTENERS_TLS_DEFER_S). For a model that
 * wants a listener per loop (event), each TCP listener takes the inherited loop listeners
 * (named LOOP_LISTENERS_NAME); loop_listeners_open adds what -w still lacks. 0, or -1.
 */
int listeners_open(listener_set *set, const listeners_spec *spec, char *err, size_t errlen);

/* Appends fd to l's further listeners (the event model's, one per loop), which the set then
 * owns; 0, or -1 when out of memory (fd is left to the caller). */
int listeners_add_loop_fd(server_listener *l, int fd);

/* Closes every listener; removes the UNIX socket files this process owns unless keep_files
 * (a successor serves on them). */
void listeners_close(listener_set *set, int keep_files);

/* The name a listener is handed to an upgrade's successor under: its role ("tls", "plain",
 * "udp"), so the successor serves it the same way whatever its options say. */
const char *listeners_role(const server_listener *l);

#ifdef __cplusplus
}
#endif
#endif
