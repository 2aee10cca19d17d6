/* test_http_mime.c - Content-Type from file names, against what Flask's
 * send_file sends on this machine: Python's mimetypes (defaults +
 * /etc/mime.types) and Werkzeug's get_content_type (charset for text types).
 *
 * Left out of the comparison, as documented in src/http/mime.c: names Python
 * reads as a content *encoding* (.gz, .bz2, .xz, .Z, .br, .tgz, .svgz ...),
 * and extensions /etc/mime.types spells with capitals or dots, which Python
 * matches case-sensitively first while we match case-insensitively. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "http/parser.h"

/* Prints "name<TAB>content type" for each name; names from stdin lines. */
static const char oracle[] =
    "import sys, mimetypes, posixpath\n"
    "from werkzeug.utils import get_content_type\n"
    "for name in sys.stdin.read().split('\\n'):\n"
    "    if not name: continue\n"
    "    base, ext = posixpath.splitext(name)\n"
    "    if ext in mimetypes.suffix_map or ext.lower() in mimetypes.encodings_map: continue\n"
    "    if ext in mimetypes.encodings_map: continue\n"
    "    t, enc = mimetypes.guess_type(name)\n"
    "    if enc: continue\n"
    "    print(name + '\\t' + get_content_type(t or 'application/octet-stream', 'utf-8'))\n";

/* Runs the oracle on names (one per line); returns how many lines matched. */
static int compare_with_flask(const char *names, const char *(*ours)(const char *), int *compared) {
    char script[] = "/tmp/vial_mime_oracle_XXXXXX";
    int fd = mkstemp(script);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, oracle, sizeof oracle - 1), (ssize_t)(sizeof oracle - 1));
    close(fd);
    char input[] = "/tmp/vial_mime_names_XXXXXX";
    fd = mkstemp(input);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, names, strlen(names)), (ssize_t)strlen(names));
    close(fd);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s < %s", script, input);
    FILE *py = popen(cmd, "r");
    cr_assert(py);
    char line[1024];
    int same = 0;
    *compared = 0;
    while (fgets(line, sizeof line, py)) {
        line[strcspn(line, "\n")] = '\0';
        char *tab = strchr(line, '\t');
        cr_assert(tab);
        *tab = '\0';
        const char *got = ours(line);
        (*compared)++;
        if (strcmp(got, tab + 1) == 0)
            same++;
        else
            cr_log_error("%s: %s, Flask sends %s", line, got, tab + 1);
    }
    cr_assert_eq(pclose(py), 0, "python3 oracle failed");
    unlink(script);
    unlink(input);
    return same;
}

Test(mime, builtin_table_matches_flask) {
    static const char names[] =
        "a.7z\na.aac\na.apk\na.apng\na.atom\na.avi\na.avif\na.bin\na.bmp\na.c\na.css\na.csv\na.doc\na.docx\n"
        "a.eot\na.epub\na.exe\na.flac\na.gif\na.h\na.htm\na.html\na.ico\na.ics\na.jar\na.jpeg\na.jpg\na.js\n"
        "a.json\na.jsonld\na.m4a\na.md\na.mjs\na.mkv\na.mov\na.mp3\na.mp4\na.mpeg\na.mpg\na.odp\na.ods\n"
        "a.odt\na.oga\na.ogg\na.ogv\na.opus\na.otf\na.pdf\na.png\na.ppt\na.pptx\na.py\na.rar\na.rss\na.rtf\n"
        "a.sh\na.sql\na.svg\na.tar\na.tif\na.tiff\na.tsv\na.ttf\na.txt\na.vtt\na.wasm\na.wav\na.webm\n"
        "a.webmanifest\na.webp\na.woff\na.woff2\na.xhtml\na.xls\na.xlsx\na.xml\na.zip\na.gz\na.xz\n"
        "noext\n.htaccess\na.\nstatic/css.d/file\na.unknownext\n";
    int compared, same = compare_with_flask(names, vial_mime_type_builtin, &compared);
    int lines = 0;
    for (const char *p = names; *p; p++) lines += *p == '\n';
    cr_expect_eq(compared, lines - 2, "every name but a.gz and a.xz (encodings for Python) is compared");
    cr_expect_eq(same, compared);
}

Test(mime, system_table_matches_flask) {
    /* every extension /etc/mime.types lists, plus capitalised forms */
    FILE *f = fopen("/etc/mime.types", "r");
    cr_assert(f, "/etc/mime.types (Debian package media-types) is needed by this test");
    size_t cap = 1 << 16, len = 0;
    char *names = malloc(cap), line[4096];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#') continue;
        char *save = NULL, *tok = strtok_r(line, " \t\r\n", &save);
        if (!tok) continue;
        while ((tok = strtok_r(NULL, " \t\r\n", &save))) {
            bool plain = strchr(tok, '.') == NULL;
            for (char *c = tok; *c; c++)
                if (*c >= 'A' && *c <= 'Z') plain = false;
            if (!plain) continue;
            cr_assert(len + 2 * strlen(tok) + 16 < cap);
            len += (size_t)sprintf(names + len, "f.%s\n", tok);
            if (tok[0] >= 'a' && tok[0] <= 'z') len += (size_t)sprintf(names + len, "dir/F.%c%s\n", tok[0] - 32, tok + 1);
        }
    }
    fclose(f);
    names[len] = '\0';
    int compared, same = compare_with_flask(names, vial_mime_type, &compared);
    cr_expect_gt(compared, 2000);
    cr_expect_eq(same, compared, "%d of %d differ", compared - same, compared);
    free(names);
}

Test(mime, edge_cases) {
    cr_expect_str_eq(vial_mime_type("index.HTML"), "text/html; charset=utf-8");
    cr_expect_str_eq(vial_mime_type("/var/www/app.min.js"), "text/javascript; charset=utf-8");
    cr_expect_str_eq(vial_mime_type("photo.JPG"), "image/jpeg");
    cr_expect_str_eq(vial_mime_type("Makefile"), "application/octet-stream");
    cr_expect_str_eq(vial_mime_type(".bashrc"), "application/octet-stream");
    cr_expect_str_eq(vial_mime_type("..."), "application/octet-stream");
    cr_expect_str_eq(vial_mime_type("a.d/b"), "application/octet-stream");
    cr_expect_str_eq(vial_mime_type(""), "application/octet-stream");
    cr_expect_str_eq(vial_mime_type(NULL), "application/octet-stream");
    cr_expect_str_eq(vial_mime_type("x.averyveryveryveryverylongextensionname"), "application/octet-stream");
    cr_expect_str_eq(vial_mime_type("x.gz"), "application/gzip");
    cr_expect_str_eq(vial_mime_type_builtin("x.CSS"), "text/css; charset=utf-8");
    cr_expect_str_eq(vial_mime_type_builtin("x.yaml"), "application/octet-stream");
    /* the same pointer each time: the table is loaded once */
    cr_expect_eq(vial_mime_type("a.svg"), vial_mime_type("b.SVG"));
}
