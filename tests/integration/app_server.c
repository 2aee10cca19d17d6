/* app_server.c - a vial app for the integration suites (test_app_*.py):
 * every kind of request and response the framework offers, behind its own
 * CLI (./app_server run --port 0 ...). */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vial.h"

/* Streams the upload through request.files and answers its size and SHA-256. */
VIAL_ROUTE(upload, "/upload", VIAL_POST) {
    vial_file *f = vial_file_get(rq, "file");
    if (!f) vial_abort_msg(rq, 400, "no file field");
    EVP_MD_CTX *sha = EVP_MD_CTX_new();
    EVP_DigestInit_ex(sha, EVP_sha256(), NULL);
    if (f->data) {
        EVP_DigestUpdate(sha, f->data, f->size);
    } else {
        FILE *in = fopen(f->path, "rb");
        if (!in) vial_abort(rq, 500);
        char buf[8192];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, in)) > 0) EVP_DigestUpdate(sha, buf, n);
        fclose(in);
    }
    unsigned char digest[32];
    EVP_DigestFinal_ex(sha, digest, NULL);
    EVP_MD_CTX_free(sha);
    char hex[65];
    for (int i = 0; i < 32; i++) snprintf(hex + 2 * i, 3, "%02x", digest[i]);
    vial_jsonify(rs, vial_pack(rq, "{s:s, s:I, s:s, s:b}", "filename", f->filename, "size", (int64_t)f->size, "sha256",
                               hex, "on_disk", f->path != NULL));
}

/* Echoes a query value into a header: a response-splitting attempt must be refused. */
VIAL_ROUTE(echo_header, "/echo_header", VIAL_GET) {
    const char *v = vial_arg(rq, "v");
    int rc = vial_set_header(rs, "X-Echo", v ? v : "");
    vial_printf(rs, "set=%d", rc);
}

VIAL_ROUTE(json_echo, "/json", VIAL_POST) { vial_jsonify(rs, vial_get_json(rq)); }

static int chunks_left;
static int next_chunk(void *ctx, vial_str *chunk) {
    int *left = ctx;
    static char line[64];
    if (*left == 0) return 0;
    int n = snprintf(line, sizeof line, "chunk %d\n", (*left)--);
    *chunk = (vial_str){line, (size_t)n};
    return 1;
}
VIAL_ROUTE(stream, "/stream", VIAL_GET) {
    int *left = vial_arena_alloc(vial_req_arena(rq), sizeof *left);
    *left = 5;
    (void)chunks_left;
    vial_stream(rs, next_chunk, left, "text/plain; charset=utf-8");
}

VIAL_ROUTE(big, "/big", VIAL_GET) {
    for (int i = 0; i < 2000; i++) vial_printf(rs, "line %d of a compressible body\n", i);
    vial_content_type_set(rs, "text/plain; charset=utf-8");
}

VIAL_ROUTE(crash, "/boom", VIAL_GET) { vial_abort_msg(rq, 500, "the view failed: %s", "details for debug mode"); }

VIAL_ROUTE(files, "/files/<path:name>", VIAL_GET) { vial_send_from_directory(rs, "data", vial_param(rq, "name")); }

VIAL_ROUTE(download, "/download/<path:name>", VIAL_GET) {
    vial_send_from_directory(rs, "data", vial_param(rq, "name"), .as_attachment = true);
}

static int hello(vial_app *app, vial_cmd *cmd) {
    (void)app;
    const char *name = vial_cmd_opt(cmd, "name");
    int count = atoi(vial_cmd_opt(cmd, "count"));
    for (int i = 0; i < count; i++) printf("hello %s%s\n", name, vial_cmd_flag(cmd, "shout") ? "!" : "");
    for (int i = 0; i < vial_cmd_argc(cmd); i++) printf("arg %s\n", vial_cmd_arg(cmd, i));
    return 0;
}

int main(int argc, char **argv) {
    vial_app *app = vial_app_new("app_server");
    vial_config_set(app, "SECRET_KEY", "s3cret-do-not-print");
    vial_config_set(app, "DATABASE_URL", "postgresql://user:hunter2@127.0.0.1:5432/db");
    vial_cmd *cmd = vial_command(app, "hello", "Say hello.", hello);
    vial_command_option(cmd, "name", 'n', "Who to greet.", "world", false);
    vial_command_option(cmd, "count", 'c', "How many times.", "1", false);
    vial_command_option(cmd, "shout", 0, "Add an exclamation mark.", NULL, true);
    return vial_main(app, argc, argv);
}
