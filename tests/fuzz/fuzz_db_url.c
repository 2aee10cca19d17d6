/* fuzz_db_url - database URL parsing: never crashes, never leaks, and a URL
 * it accepts has a display form that does not show its password. */
#include <stdlib.h>
#include <string.h>

#include "db/db.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    char *url = malloc(size + 1);
    if (!url) return 0;
    memcpy(url, data, size);
    url[size] = '\0';
    db_url u;
    char err[256];
    if (vial_db_url_parse(url, &u, err, sizeof err) == 0) {
        if (!u.display) abort();
        /* the authority's password is masked: ":<password>@" never shows */
        const char *pw = vial_db_url_param(&u, "password");
        if (pw && *pw && strchr(url, '@')) {
            size_t n = strlen(pw);
            char *needle = malloc(n + 3);
            needle[0] = ':';
            memcpy(needle + 1, pw, n);
            needle[n + 1] = '@';
            needle[n + 2] = '\0';
            bool encoded = strchr(url, '%') != NULL; /* then the URL spells it differently */
            const char *auth = strstr(u.display, "://");
            if (auth) {
                auth += 3;
                char *authority = strndup(auth, strcspn(auth, "/?"));
                if (!encoded && strstr(authority, needle)) abort();
                free(authority);
            }
            free(needle);
        }
        vial_db_url_free(&u);
    } else if (!err[0]) {
        abort(); /* a refusal always says why */
    }
    free(url);
    return 0;
}
