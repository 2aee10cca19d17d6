/* mime.c - the Content-Type of a file from its name, as Flask's send_file
 * picks it.
 *
 * Werkzeug asks Python's mimetypes, which reads /etc/mime.types over its own
 * defaults, and then adds "; charset=utf-8" to text types, to +xml types and to a
 * few textual application/ types. We do the same with a built-in table of
 * the common web types (the values Python gives on Debian bookworm) and the
 * system file read once per process, on first use, its entries winning as
 * they do in Python. Extensions match case-insensitively.
 *
 * Known difference: Python treats .gz .bz2 .xz .br .Z (and .tgz, .svgz) as
 * content *encodings* and Werkzeug then sends Content-Encoding with the inner
 * type (or application/octet-stream); we return the compressed file's own
 * type (application/gzip for .gz) and never set an encoding. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http/parser.h"

#define MIME_TYPES_FILE "/etc/mime.types"
#define MAX_EXT 32

typedef struct mime_entry {
    const char *ext; /* lower case, without the dot */
    const char *type;
} mime_entry;

/* Sorted by extension (bsearch). */
static const mime_entry builtin[] = {
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/aac"},
    {"apk", "application/vnd.android.package-archive"},
    {"apng", "image/apng"},
    {"atom", "application/atom+xml; charset=utf-8"},
    {"avi", "video/x-msvideo"},
    {"avif", "image/avif"},
    {"bin", "application/octet-stream"},
    {"bmp", "image/bmp"},
    {"c", "text/x-csrc; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"eot", "application/vnd.ms-fontobject"},
    {"epub", "application/epub+zip"},
    {"exe", "application/x-msdos-program"},
    {"flac", "audio/flac"},
    {"gif", "image/gif"},
    {"gz", "application/gzip"},
    {"h", "text/x-chdr; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"ico", "image/vnd.microsoft.icon"},
    {"ics", "text/calendar; charset=utf-8"},
    {"jar", "application/java-archive"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json"},
    {"jsonld", "application/ld+json"},
    {"m4a", "audio/mp4"},
    {"md", "text/markdown; charset=utf-8"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mkv", "video/x-matroska"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"opus", "audio/ogg"},
    {"otf", "font/otf"},
    {"pdf", "application/pdf"},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"py", "text/x-python; charset=utf-8"},
    {"rar", "application/vnd.rar"},
    {"rss", "application/x-rss+xml; charset=utf-8"},
    {"rtf", "application/rtf"},
    {"sh", "text/x-sh; charset=utf-8"},
    {"sql", "application/sql; charset=utf-8"},
    {"svg", "image/svg+xml; charset=utf-8"},
    {"tar", "application/x-tar"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"tsv", "text/tab-separated-values; charset=utf-8"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"vtt", "text/vtt; charset=utf-8"},
    {"wasm", "application/wasm"},
    {"wav", "audio/x-wav"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json"},
    {"webp", "image/webp"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xhtml", "application/xhtml+xml; charset=utf-8"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "application/xml; charset=utf-8"},
    {"xz", "application/x-xz"},
    {"zip", "application/zip"},
};

static mime_entry *system_entries;
static size_t system_count;
static pthread_once_t system_once = PTHREAD_ONCE_INIT;

static int entry_cmp(const void *a, const void *b) {
    const mime_entry *x = a, *y = b;
    int c = strcmp(x->ext, y->ext);
    /* Same extension: keep file order (the type pointers grow with it), so
     * the last line of the file can win as in Python. */
    if (c == 0) c = x->type < y->type ? -1 : x->type > y->type;
    return c;
}

/* Werkzeug's get_content_type: which types get "; charset=utf-8". */
static bool wants_charset(const char *type, size_t n) {
    static const char *const textual[] = {"application/ecmascript", "application/javascript", "application/sql",
                                          "application/xml", "application/xml-dtd",
                                          "application/xml-external-parsed-entity"};
    if (n >= 5 && memcmp(type, "text/", 5) == 0) return true;
    if (n >= 4 && memcmp(type + n - 4, "+xml", 4) == 0) return true;
    for (size_t i = 0; i < sizeof textual / sizeof textual[0]; i++)
        if (strlen(textual[i]) == n && memcmp(textual[i], type, n) == 0) return true;
    return false;
}

/* Reads MIME_TYPES_FILE: "type ext ext ..." lines, '#' comments. Everything
 * lives in one allocation per table, kept for the life of the process. */
static void load_system_types(void) {
    FILE *f = fopen(MIME_TYPES_FILE, "r");
    if (!f) return;
    size_t cap = 0, count = 0, text_cap = 0, text_len = 0;
    mime_entry *entries = NULL;
    size_t *offsets = NULL; /* (type offset, ext offset) pairs until the text stops moving */
    char *text = NULL;
    char line[4096];
    bool failed = false;
    while (!failed && fgets(line, sizeof line, f)) {
        char *hash = strchr(line, '#');
        if (hash) *hash = '\0';
        char *save = NULL, *type = strtok_r(line, " \t\r\n", &save);
        if (!type || !strchr(type, '/')) continue;
        size_t type_len = strlen(type);
        bool charset = wants_charset(type, type_len);
        size_t type_off = text_len, full_len = type_len + (charset ? sizeof "; charset=utf-8" - 1 : 0);
        bool type_stored = false;
        for (char *ext = strtok_r(NULL, " \t\r\n", &save); ext; ext = strtok_r(NULL, " \t\r\n", &save)) {
            size_t ext_len = strlen(ext);
            if (ext_len == 0 || ext_len > MAX_EXT) continue;
            size_t extra = ext_len + 1 + (type_stored ? 0 : full_len + 1);
            if (text_len + extra > text_cap) {
                size_t ncap = text_cap ? text_cap * 2 : 16384;
                while (ncap < text_len + extra) ncap *= 2;
                char *n = realloc(text, ncap);
                if (!n) {
                    failed = true;
                    break;
                }
                text = n;
                text_cap = ncap;
            }
            if (!type_stored) {
                memcpy(text + text_len, type, type_len);
                if (charset) memcpy(text + text_len + type_len, "; charset=utf-8", full_len - type_len);
                text[text_len + full_len] = '\0';
                text_len += full_len + 1;
                type_stored = true;
            }
            if (count == cap) {
                size_t ncap = cap ? cap * 2 : 1024;
                size_t *n = realloc(offsets, ncap * 2 * sizeof *offsets);
                if (!n) {
                    failed = true;
                    break;
                }
                offsets = n;
                cap = ncap;
            }
            for (size_t i = 0; i < ext_len; i++)
                text[text_len + i] = (char)(ext[i] >= 'A' && ext[i] <= 'Z' ? ext[i] + 32 : ext[i]);
            text[text_len + ext_len] = '\0';
            offsets[count * 2] = type_off;
            offsets[count * 2 + 1] = text_len;
            text_len += ext_len + 1;
            count++;
        }
    }
    fclose(f);
    if (!failed && count) entries = malloc(count * sizeof *entries);
    if (failed || !entries) {
        free(offsets);
        free(text);
        return;
    }
    for (size_t i = 0; i < count; i++) entries[i] = (mime_entry){text + offsets[i * 2 + 1], text + offsets[i * 2]};
    free(offsets);
    qsort(entries, count, sizeof *entries, entry_cmp);
    /* Keep the last entry of each run of equal extensions. */
    size_t kept = 0;
    for (size_t i = 0; i < count; i++) {
        if (i + 1 < count && strcmp(entries[i].ext, entries[i + 1].ext) == 0) continue;
        entries[kept++] = entries[i];
    }
    system_entries = entries;
    system_count = kept;
}

static int key_cmp(const void *key, const void *entry) { return strcmp(key, ((const mime_entry *)entry)->ext); }

/* The lower-cased extension of filename's last path component into ext;
 * false when it has none (Python's splitext: leading dots do not count). */
static bool extension_of(const char *filename, char ext[MAX_EXT + 1]) {
    const char *base = strrchr(filename, '/');
    base = base ? base + 1 : filename;
    while (*base == '.') base++;
    const char *dot = strrchr(base, '.');
    if (!dot || !dot[1]) return false;
    size_t n = strlen(dot + 1);
    if (n > MAX_EXT) return false;
    for (size_t i = 0; i <= n; i++) {
        char c = dot[1 + i];
        ext[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
    }
    return true;
}

static const char *builtin_lookup(const char *ext) {
    const mime_entry *e =
        bsearch(ext, builtin, sizeof builtin / sizeof builtin[0], sizeof builtin[0], key_cmp);
    return e ? e->type : NULL;
}

const char *vial_mime_type_builtin(const char *filename) {
    char ext[MAX_EXT + 1];
    const char *type = filename && extension_of(filename, ext) ? builtin_lookup(ext) : NULL;
    return type ? type : "application/octet-stream";
}

const char *vial_mime_type(const char *filename) {
    char ext[MAX_EXT + 1];
    if (!filename || !extension_of(filename, ext)) return "application/octet-stream";
    pthread_once(&system_once, load_system_types);
    if (system_count) {
        const mime_entry *e = bsearch(ext, system_entries, system_count, sizeof *system_entries, key_cmp);
        if (e) return e->type;
    }
    const char *type = builtin_lookup(ext);
    return type ? type : "application/octet-stream";
}
