/* fuzz_db_sql - the SQL text scanners and the migration file splitter:
 * placeholder translation, blank/readonly classification, timestamp
 * normalization. Checks: no crash, the translation changes nothing but ?
 * into $1, $2... in order (as many as it counts), a normalized timestamp is
 * stable, migration sections lie inside the input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    char *sql = malloc(size + 1);
    if (!sql) return 0;
    memcpy(sql, data, size);
    sql[size] = '\0';
    vial_buf out;
    vial_buf_init(&out, NULL, 1 << 20);
    int n = -1;
    char err[160];
    if (vial_db_sql_translate(sql, &out, &n, err, sizeof err) == 0) {
        if (n < 0) abort();
        /* the output is the input with some ? replaced by $1, $2, ... in order, nothing else */
        const char *o = vial_buf_cstr(&out);
        int next = 1;
        for (const char *i = sql; *i; i++) {
            if (*i == '?' && *o == '$') {
                char want[16];
                int len = snprintf(want, sizeof want, "$%d", next++);
                if (strncmp(o, want, (size_t)len) != 0) abort();
                o += len;
            } else if (*o++ != *i) {
                abort();
            }
        }
        if (*o || next - 1 != n) abort();
    }
    vial_buf_free(&out);
    (void)vial_db_sql_blank(sql);
    (void)vial_db_sql_readonly(sql);
    char ts[20];
    if (vial_db_timestamp_normalize(sql, strlen(sql), ts) == 0) {
        char again[20];
        if (vial_db_timestamp_normalize(ts, 19, again) != 0 || memcmp(ts, again, 19) != 0) abort();
    }
    vial_str up, down;
    if (vial_db_migration_split((const char *)data, size, &up, &down, err, sizeof err) == 0) {
        const char *start = (const char *)data, *end = start + size;
        if (up.ptr < start || up.ptr + up.len > end || down.ptr < start || down.ptr + down.len > end) abort();
    }
    free(sql);
    return 0;
}
