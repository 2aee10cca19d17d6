/* config.c - app.config: typed keys with Flask's defaults.
 *
 * Config is one vial_value object in the app's arena. Flask's well-known keys
 * start with Flask's defaults and keep their type: setting DEBUG from the text
 * "true" stores a bool, MAX_CONTENT_LENGTH from "1048576" an int; a value
 * that does not convert is refused with a message naming the key, as a typo
 * in production config should not silently become a string. Keys can come
 * from code, a mapping, a JSON file, or environment variables with a prefix
 * (Flask's from_prefixed_env: values parsed as JSON when they are JSON,
 * nested keys separated by "__"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "app/app.h"

extern char **environ;

typedef enum { KEY_STRING, KEY_BOOL, KEY_INT, KEY_ANY } key_type;

typedef struct {
    const char *name;
    key_type type;
    const char *default_json; /* NULL: absent (None) */
} known_key;

/* Flask 2.2's defaults, plus the engine's own keys. */
static const known_key known_keys[] = {
    {"DEBUG", KEY_BOOL, "false"},
    {"TESTING", KEY_BOOL, "false"},
    {"PROPAGATE_EXCEPTIONS", KEY_ANY, "null"},
    {"SECRET_KEY", KEY_ANY, "null"},
    {"SECRET_KEY_FALLBACKS", KEY_ANY, "[]"},
    {"PERMANENT_SESSION_LIFETIME", KEY_INT, "2678400"},
    {"USE_X_SENDFILE", KEY_BOOL, "false"},
    {"SERVER_NAME", KEY_STRING, "null"},
    {"APPLICATION_ROOT", KEY_STRING, "\"/\""},
    {"SESSION_COOKIE_NAME", KEY_STRING, "\"session\""},
    {"SESSION_COOKIE_DOMAIN", KEY_ANY, "null"},
    {"SESSION_COOKIE_PATH", KEY_STRING, "null"},
    {"SESSION_COOKIE_HTTPONLY", KEY_BOOL, "true"},
    {"SESSION_COOKIE_SECURE", KEY_BOOL, "false"},
    {"SESSION_COOKIE_SAMESITE", KEY_STRING, "null"},
    {"SESSION_COOKIE_PARTITIONED", KEY_BOOL, "false"},
    {"SESSION_REFRESH_EACH_REQUEST", KEY_BOOL, "true"},
    {"SESSION_TYPE", KEY_STRING, "\"cookie\""},
    {"SESSION_REDIS_URL", KEY_STRING, "\"redis://127.0.0.1:6379/0\""},
    {"MAX_CONTENT_LENGTH", KEY_INT, "null"},
    {"MAX_FORM_MEMORY_SIZE", KEY_INT, "500000"},
    {"MAX_FORM_PARTS", KEY_INT, "1000"},
    {"FORM_FILE_THRESHOLD", KEY_INT, "512000"},
    {"UPLOAD_TEMP_DIR", KEY_STRING, "null"},
    {"SEND_FILE_MAX_AGE_DEFAULT", KEY_INT, "null"},
    {"TRAP_BAD_REQUEST_ERRORS", KEY_ANY, "null"},
    {"TRAP_HTTP_EXCEPTIONS", KEY_BOOL, "false"},
    {"EXPLAIN_TEMPLATE_LOADING", KEY_BOOL, "false"},
    {"PREFERRED_URL_SCHEME", KEY_STRING, "\"http\""},
    {"JSON_AS_ASCII", KEY_BOOL, "true"},
    {"JSON_SORT_KEYS", KEY_BOOL, "true"},
    {"JSONIFY_PRETTYPRINT_REGULAR", KEY_BOOL, "false"},
    {"JSONIFY_MIMETYPE", KEY_STRING, "\"application/json\""},
    {"JSON_MAX_DEPTH", KEY_INT, "512"},
    {"TEMPLATES_AUTO_RELOAD", KEY_ANY, "null"},
    {"MAX_COOKIE_SIZE", KEY_INT, "4093"},
    {"GZIP_ENABLED", KEY_BOOL, "true"},
    {"GZIP_MIN_SIZE", KEY_INT, "1024"},
    {"GZIP_LEVEL", KEY_INT, "6"},
    {"DATABASE_URL", KEY_STRING, "\"sqlite:///instance/app.db\""},
    {"WTF_CSRF_ENABLED", KEY_BOOL, "true"},
    {"WTF_CSRF_TIME_LIMIT", KEY_INT, "3600"},
    {"REMEMBER_COOKIE_NAME", KEY_STRING, "\"remember_token\""},
    {"REMEMBER_COOKIE_DURATION", KEY_INT, "31536000"},
    {"PROXY_FIX_X_FOR", KEY_INT, "0"},
    {"PROXY_FIX_X_PROTO", KEY_INT, "0"},
    {"PROXY_FIX_X_HOST", KEY_INT, "0"},
    {"SERVER_HEADER", KEY_STRING, "\"vial\""},
    {"REQUEST_HEADER_TIMEOUT", KEY_INT, "10"},
    {"REQUEST_BODY_TIMEOUT", KEY_INT, "30"},
    {"KEEPALIVE_TIMEOUT", KEY_INT, "75"},
    {"GRACEFUL_TIMEOUT", KEY_INT, "30"},
    {"MAX_REQUEST_LINE", KEY_INT, "8192"},
    {"MAX_HEADER_BYTES", KEY_INT, "16384"},
    {"MAX_HEADER_FIELDS", KEY_INT, "100"},
};

static const known_key *find_key(const char *name) {
    for (size_t i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++)
        if (strcmp(known_keys[i].name, name) == 0) return &known_keys[i];
    return NULL;
}

void app_config_defaults(vial_app *app) {
    for (size_t i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++) {
        const known_key *k = &known_keys[i];
        vial_value *v = vial_json_parse(app->arena, k->default_json, strlen(k->default_json), 0, NULL);
        if (v) vial_object_set(app->config, k->name, v);
    }
}

static bool parse_bool_text(const char *s, bool *out) {
    static const char *truthy[] = {"1", "true", "yes", "on", "t", "y"};
    static const char *falsy[] = {"0", "false", "no", "off", "f", "n", ""};
    for (size_t i = 0; i < sizeof truthy / sizeof truthy[0]; i++)
        if (strcasecmp(s, truthy[i]) == 0) return *out = true, true;
    for (size_t i = 0; i < sizeof falsy / sizeof falsy[0]; i++)
        if (strcasecmp(s, falsy[i]) == 0) return *out = false, true;
    return false;
}

/* Converts v to the key's type; NULL (with a log line) when it cannot. */
static vial_value *coerce(vial_app *app, const known_key *k, const char *key, vial_value *v) {
    if (!k || k->type == KEY_ANY || v->type == VIAL_NULL) return v;
    switch (k->type) {
    case KEY_BOOL:
        if (v->type == VIAL_BOOL) return v;
        if (v->type == VIAL_INT) return vial_new_bool(app->arena, v->as.i != 0);
        if (v->type == VIAL_STRING) {
            bool b;
            if (parse_bool_text(v->as.s.ptr, &b)) return vial_new_bool(app->arena, b);
        }
        break;
    case KEY_INT:
        if (v->type == VIAL_INT) return v;
        if (v->type == VIAL_DOUBLE && v->as.d == (double)(int64_t)v->as.d) return vial_new_int(app->arena, (int64_t)v->as.d);
        if (v->type == VIAL_STRING) {
            char *end;
            errno = 0;
            long long n = strtoll(v->as.s.ptr, &end, 10);
            if (errno == 0 && end != v->as.s.ptr && *end == '\0') return vial_new_int(app->arena, n);
        }
        break;
    case KEY_STRING:
        if (v->type == VIAL_STRING) return v;
        break;
    case KEY_ANY: return v;
    }
    static const char *type_names[] = {"a string", "true or false", "an integer", "any value"};
    app->last_error = vial_arena_sprintf(app->arena, "config %s must be %s", key, type_names[k->type]);
    vial_log(VIAL_LOG_ERROR, "%s", app->last_error);
    return NULL;
}

int vial_config_set_value(vial_app *app, const char *key, const vial_value *value) {
    if (!key || !*key || !value) return -1;
    vial_value *copy = vial_value_copy(app->arena, value);
    if (!copy) return -1;
    copy = coerce(app, find_key(key), key, copy);
    if (!copy) return -1;
    app->config_version++;
    return vial_object_set(app->config, key, copy);
}

int vial_config_set(vial_app *app, const char *key, const char *value) {
    if (!value) return vial_config_set_value(app, key, vial_value_null());
    vial_value tmp = {.type = VIAL_STRING, .as.s = {value, strlen(value)}};
    return vial_config_set_value(app, key, &tmp);
}

int vial_config_set_int(vial_app *app, const char *key, int64_t value) {
    vial_value tmp = {.type = VIAL_INT, .as.i = value};
    return vial_config_set_value(app, key, &tmp);
}

int vial_config_set_bool(vial_app *app, const char *key, bool value) {
    return vial_config_set_value(app, key, vial_new_bool(NULL, value));
}

int vial_config_update(vial_app *app, const vial_value *mapping) {
    if (!mapping || mapping->type != VIAL_OBJECT) return -1;
    int rc = 0;
    for (size_t i = 0; i < mapping->as.obj.len; i++)
        if (vial_config_set_value(app, mapping->as.obj.items[i].key, mapping->as.obj.items[i].value) != 0) rc = -1;
    return rc;
}

int vial_config_from_json(vial_app *app, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        app->last_error = vial_arena_sprintf(app->arena, "Unable to load configuration file (%s): %s", path, strerror(errno));
        vial_log(VIAL_LOG_ERROR, "%s", app->last_error);
        return -1;
    }
    vial_buf b;
    vial_buf_init(&b, NULL, 16 << 20);
    char chunk[8192];
    size_t n;
    int rc = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (vial_buf_append(&b, chunk, n) != 0) {
            rc = -1;
            break;
        }
    fclose(f);
    vial_arena *tmp = vial_arena_new(4096);
    vial_json_error err;
    vial_value *v = rc == 0 ? vial_json_parse(tmp, b.data ? b.data : "", b.len, 0, &err) : NULL;
    if (!v || v->type != VIAL_OBJECT) {
        app->last_error = vial_arena_sprintf(app->arena, "config file %s: %s", path,
                                             v ? "the top level must be an object" : rc ? "too large" : err.message);
        vial_log(VIAL_LOG_ERROR, "%s", app->last_error);
        rc = -1;
    } else {
        rc = vial_config_update(app, v);
    }
    vial_arena_free(tmp);
    vial_buf_free(&b);
    return rc;
}

int vial_config_from_env(vial_app *app, const char *prefix) {
    if (!prefix) prefix = "VIAL";
    size_t plen = strlen(prefix);
    int rc = 0;
    vial_arena *tmp = vial_arena_new(4096);
    for (char **env = environ; env && *env; env++) {
        const char *entry = *env;
        if (strncmp(entry, prefix, plen) != 0 || entry[plen] != '_') continue;
        const char *eq = strchr(entry, '=');
        if (!eq) continue;
        const char *name = entry + plen + 1;
        size_t name_len = (size_t)(eq - name);
        if (name_len == 0) continue;
        /* VIAL_RUN_* configure the run command, not the app (as FLASK_RUN_*). */
        if (name_len >= 4 && strncmp(name, "RUN_", 4) == 0) continue;
        const char *text = eq + 1;
        vial_value *v = vial_json_parse(tmp, text, strlen(text), 0, NULL);
        if (!v) v = vial_new_str(tmp, text);
        char *key = vial_arena_strndup(tmp, name, name_len);
        char *sep = strstr(key, "__");
        if (!sep) {
            if (vial_config_set_value(app, key, v) != 0) rc = -1;
            continue;
        }
        /* Nested: A__B__C=v sets config["A"]["B"]["C"]; intermediate dicts are created. */
        *sep = '\0';
        vial_value *node = vial_object_get(app->config, key);
        if (!node || node->type != VIAL_OBJECT) {
            node = vial_new_object(app->arena);
            vial_object_set(app->config, key, node);
        }
        char *part = sep + 2;
        for (;;) {
            char *next = strstr(part, "__");
            if (!next) break;
            *next = '\0';
            vial_value *child = vial_object_get(node, part);
            if (!child || child->type != VIAL_OBJECT) {
                child = vial_new_object(app->arena);
                vial_object_set(node, part, child);
            }
            node = child;
            part = next + 2;
        }
        vial_object_set(node, part, vial_value_copy(app->arena, v));
        app->config_version++;
    }
    vial_arena_free(tmp);
    return rc;
}

const vial_value *vial_config_get(const vial_app *app, const char *key) { return vial_object_get(app->config, key); }

const char *vial_config_str(const vial_app *app, const char *key) { return vial_get_str(app->config, key); }

int64_t vial_config_int(const vial_app *app, const char *key, int64_t fallback) {
    const vial_value *v = vial_object_get(app->config, key);
    if (!v || v->type == VIAL_NULL) return fallback;
    return vial_get_int(app->config, key, fallback);
}

bool vial_config_bool(const vial_app *app, const char *key, bool fallback) {
    const vial_value *v = vial_object_get(app->config, key);
    if (!v || v->type == VIAL_NULL) return fallback;
    return vial_truthy(v);
}

const vial_value *vial_config(const vial_app *app) { return app->config; }

const app_settings *app_settings_get(vial_app *app) {
    app_settings *s = &app->settings;
    if (s->version == app->config_version + 1) return s;
    s->debug = vial_config_bool(app, "DEBUG", false);
    s->proxy_x_for = (int)vial_config_int(app, "PROXY_FIX_X_FOR", 0);
    s->proxy_x_proto = (int)vial_config_int(app, "PROXY_FIX_X_PROTO", 0);
    s->proxy_x_host = (int)vial_config_int(app, "PROXY_FIX_X_HOST", 0);
    s->json_sort_keys = vial_config_bool(app, "JSON_SORT_KEYS", true);
    s->json_as_ascii = vial_config_bool(app, "JSON_AS_ASCII", true);
    /* Flask pretty-prints jsonify output in debug mode (or with JSONIFY_PRETTYPRINT_REGULAR). */
    s->json_pretty = vial_config_bool(app, "JSONIFY_PRETTYPRINT_REGULAR", false) || s->debug;
    s->json_mimetype = vial_config_str(app, "JSONIFY_MIMETYPE");
    if (!s->json_mimetype) s->json_mimetype = "application/json";
    s->json_max_depth = (int)vial_config_int(app, "JSON_MAX_DEPTH", 512);
    s->gzip_enabled = vial_config_bool(app, "GZIP_ENABLED", true);
    s->gzip_min_size = vial_config_int(app, "GZIP_MIN_SIZE", 1024);
    s->gzip_level = (int)vial_config_int(app, "GZIP_LEVEL", 6);
    s->max_content_length = vial_config_int(app, "MAX_CONTENT_LENGTH", -1);
    s->version = app->config_version + 1;
    return s;
}
