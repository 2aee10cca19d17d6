/* exchange.h - one HTTP request and its response, as they cross from the
 * server (src/server) to the application (src/app) and back.
 *
 * The server parses a request head into a vial_http_request whose strings
 * point into the connection's read buffer (zero-copy; valid until the
 * response is written), gives it an arena and a body reader, and calls the
 * app's handler on a coroutine. The handler fills the vial_http_response; the
 * server serializes it (status line, the app's headers, then Date, Server,
 * Content-Length or Transfer-Encoding, Connection) and writes it with writev
 * or sendfile. The test client builds the same struct in memory, so the app
 * cannot tell it apart from a real connection. Neither side reaches into the
 * other: the server knows nothing about routes, the app nothing of sockets. */
#ifndef VIAL_HTTP_EXCHANGE_H
#define VIAL_HTTP_EXCHANGE_H

#include <sys/socket.h>
#include <sys/types.h>

#include "vial.h"

typedef struct vial_http_header {
    vial_str name;
    vial_str value;
} vial_http_header;

typedef struct vial_http_request {
    vial_str method;      /* as sent, e.g. "GET" */
    unsigned method_bit;  /* VIAL_GET, VIAL_POST, ... ; 0 for an extension method */
    vial_str target;      /* request-target as sent: "/a%20b?x=1" */
    vial_str path;        /* target up to '?', still percent-encoded */
    vial_str query;       /* after '?', raw bytes, without the '?' (len 0 when none) */
    int version_minor;    /* HTTP/1.<minor>: 0 or 1 */
    vial_http_header *headers;
    size_t header_count;
    vial_str host;          /* the Host header value (len 0 when absent, HTTP/1.0 only) */
    int64_t content_length; /* -1 when absent */
    bool chunked;           /* Transfer-Encoding: chunked */
    bool keep_alive;        /* the connection may carry another request */
    bool expect_continue;   /* Expect: 100-continue (the reader sends 100 on first read) */
} vial_http_request;

/* Pulls the request body. read() copies up to n decoded body bytes (chunked
 * framing removed) into dst and returns how many, 0 at the end of the body,
 * or -1 when the body cannot be read (client gone, timeout, bad chunk,
 * over the size limit: see error_status). It may park the calling coroutine
 * while it waits for the client. */
typedef struct vial_body_reader {
    ssize_t (*read)(void *ctx, char *dst, size_t n);
    void *ctx;
    int error_status; /* after -1: the status to answer (400, 408, 413), 0 if none (client gone) */
} vial_body_reader;

typedef enum vial_body_kind {
    VIAL_BODY_NONE,   /* no body (Content-Length: 0 unless status forbids a body) */
    VIAL_BODY_BYTES,  /* body.ptr/len, memory owned by the arena */
    VIAL_BODY_FILE,   /* file_fd from file_offset, file_length bytes (sendfile) */
    VIAL_BODY_STREAM, /* chunks from stream(): chunked on HTTP/1.1, close-delimited on 1.0 */
} vial_body_kind;

typedef struct vial_http_response {
    int status;
    const char *reason; /* NULL: the standard phrase for status ("Unknown" when none) */
    vial_http_header *headers; /* set by the app; validated: no CR, LF or NUL */
    size_t header_count, header_cap;
    vial_body_kind body_kind;
    vial_str body;
    int file_fd; /* BODY_FILE: the server does not close it; the app's arena cleanup does */
    off_t file_offset, file_length;
    /* BODY_STREAM: returns 1 and sets *chunk, 0 at the end, -1 to abort the response */
    int (*stream)(void *ctx, vial_str *chunk);
    void *stream_ctx;
    bool close;       /* close the connection after this response */
    bool head;        /* answering HEAD: headers only, Content-Length as for GET */
} vial_http_response;

typedef struct vial_exchange {
    vial_arena *arena; /* request scope: reset after the response is written */
    vial_http_request req;
    vial_body_reader body;
    vial_http_response res;
    const struct sockaddr *remote; /* peer address (AF_INET / AF_INET6 / AF_UNIX) */
    const struct sockaddr *local;  /* address the request arrived on */
    bool secure;                   /* arrived over TLS (false until TLS exists) */
    void *server_data;             /* the server's own per-exchange state */
} vial_exchange;

/* The app's entry point, called by the server on a coroutine per request. */
typedef void (*vial_exchange_handler)(void *ctx, vial_exchange *ex);

#endif
