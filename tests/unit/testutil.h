/* testutil.h - small helpers shared by the Criterion suites. */
#ifndef VIAL_TESTUTIL_H
#define VIAL_TESTUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Path of a file under tests/data (VIAL_TEST_DATA, set by ctest). */
static inline const char *test_data_path(const char *rel) {
    static char path[4096];
    const char *root = getenv("VIAL_TEST_DATA");
    if (!root) root = "tests/data";
    snprintf(path, sizeof path, "%s/%s", root, rel);
    return path;
}

/* Reads a whole file into malloc'd memory; NULL when missing. */
static inline char *test_read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *data = malloc((size_t)n + 1);
    if (!data) {
        fclose(f);
        return NULL;
    }
    size_t got = fread(data, 1, (size_t)n, f);
    fclose(f);
    data[got] = '\0';
    if (len) *len = got;
    return data;
}

#endif
