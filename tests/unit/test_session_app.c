/* The per-request session through the test client: when the cookie is
 * written, deleted, refreshed; cookie attributes; key rotation; tampered,
 * expired and undecodable cookies; no secret key; Vary: Cookie. */
#include <unistd.h>

#include "session_testutil.h"

#define KEY "dskafmdfmem2w4m234mfmvdfmasdkqaso3423"

static void set_session(vial_req *rq, vial_res *rs) {
    vial_session_set_str(rq, "username", "xiaoming");
    vial_session_set_int(rq, "user_id", 31);
    vial_session_set(rq, "data", vial_pack(rq, "[i, i, i, i, s]", 1, 2, 3, 5, "AAAA"));
    vial_text(rs, "set_session");
}

static void get_session(vial_req *rq, vial_res *rs) {
    const char *name = vial_session_get_str(rq, "username");
    vial_printf(rs, "username=%s user_id=%lld", name ? name : "None",
                (long long)vial_session_get_int(rq, "user_id", -1));
}

static void del_session(vial_req *rq, vial_res *rs) {
    vial_value *v = vial_session_pop(rq, "username");
    vial_session_pop(rq, "data");
    vial_session_pop(rq, "user_id");
    vial_printf(rs, "popped=%s", v ? vial_str_of(v) : "None");
}

static void clear_session(vial_req *rq, vial_res *rs) {
    vial_session_clear(rq);
    vial_text(rs, "cleared");
}

static void untouched(vial_req *rq, vial_res *rs) {
    (void)rq;
    vial_text(rs, "no session here");
}

static void make_permanent(vial_req *rq, vial_res *rs) {
    vial_session_permanent(rq, true);
    vial_session_set_str(rq, "k", "v");
    vial_text(rs, "permanent");
}

static void is_permanent(vial_req *rq, vial_res *rs) {
    vial_printf(rs, "%s", vial_session_is_permanent(rq) ? "yes" : "no");
}

static void contains(vial_req *rq, vial_res *rs) {
    vial_printf(rs, "%s", vial_session_contains(rq, "username") ? "yes" : "no");
}

static void nested_change(vial_req *rq, vial_res *rs) {
    vial_value *list = vial_session_get(rq, "data");
    if (list) vial_array_push(list, vial_int(rq, 99));
    if (vial_arg(rq, "mark")) vial_session_modified(rq);
    vial_text(rs, "changed");
}

static void dump(vial_req *rq, vial_res *rs) {
    vial_jsonify(rs, vial_session(rq));
}

static void unserializable(vial_req *rq, vial_res *rs) {
    /* a UUID-tagged string that is no UUID: Flask would raise TypeError */
    vial_value *bad = vial_string(rq, "not-a-uuid");
    bad->tag = VIAL_TAG_UUID;
    vial_session_set(rq, "bad", bad);
    vial_text(rs, "set");
}

static void vary(vial_req *rq, vial_res *rs) {
    vial_set_header(rs, "Vary", vial_arg(rq, "v"));
    vial_session_get(rq, "username");
    vial_text(rs, "vary");
}

static vial_app *make_app(void) {
    vial_app *app = vial_app_new("sessions");
    vial_config_set(app, "SECRET_KEY", KEY);
    vial_route(app, "/set_session", VIAL_GET, set_session);
    vial_route(app, "/get_session", VIAL_GET, get_session);
    vial_route(app, "/del_session", VIAL_GET, del_session);
    vial_route(app, "/clear", VIAL_GET, clear_session);
    vial_route(app, "/untouched", VIAL_GET, untouched);
    vial_route(app, "/perm", VIAL_GET, make_permanent);
    vial_route(app, "/is_perm", VIAL_GET, is_permanent);
    vial_route(app, "/contains", VIAL_GET, contains);
    vial_route(app, "/nested", VIAL_GET, nested_change);
    vial_route(app, "/dump", VIAL_GET, dump);
    vial_route(app, "/vary", VIAL_GET, vary);
    vial_route(app, "/unserializable", VIAL_GET, unserializable);
    return app;
}

static vial_arena *A;
static void setup(void) { A = vial_arena_new(4096); }
static void teardown(void) { vial_arena_free(A); }
TestSuite(session_app, .init = setup, .fini = teardown);

Test(session_app, set_writes_a_flask_cookie_with_the_values) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/set_session");
    cr_assert_eq(r->status, 200);
    const char *line = set_cookie_line(r, "session");
    cr_assert_not_null(line);
    /* Flask's defaults: browser-session cookie, HttpOnly, Path=/ */
    cr_assert_not_null(strstr(line, "; HttpOnly; Path=/"), "%s", line);
    cr_assert_null(strstr(line, "Expires="), "%s", line);
    cr_assert_str_eq(vial_response_header(r, "Vary"), "Cookie");
    vial_sign_status why;
    vial_value *s = decode_with(A, KEY, cookie_value_of(A, line), &why);
    cr_assert_eq(why, VIAL_SIGN_OK);
    cr_assert_str_eq(tagged(A, s), "{\"data\":[1,2,3,5,\"AAAA\"],\"user_id\":31,\"username\":\"xiaoming\"}");
    r = vial_client_get(c, "/get_session");
    cr_assert_str_eq(r->body, "username=xiaoming user_id=31");
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, reading_does_not_write_but_varies) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_client_get(c, "/set_session");
    vial_response *r = vial_client_get(c, "/get_session");
    cr_assert_eq(set_cookie_count(r), 0, "a session only read is not written");
    cr_assert_str_eq(vial_response_header(r, "Vary"), "Cookie");
    /* `key in session` is not an access (Flask's __contains__) */
    r = vial_client_get(c, "/contains");
    cr_assert_str_eq(r->body, "yes");
    cr_assert_null(vial_response_header(r, "Vary"));
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, a_request_that_never_touches_the_session_leaves_it_alone) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_client_set_cookie(c, "session", "garbage-that-would-be-refused");
    vial_response *r = vial_client_get(c, "/untouched");
    cr_assert_eq(r->status, 200);
    cr_assert_eq(set_cookie_count(r), 0);
    cr_assert_null(vial_response_header(r, "Vary"));
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, emptied_session_deletes_the_cookie) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_client_get(c, "/set_session");
    cr_assert_not_null(vial_client_cookie(c, "session"));
    vial_response *r = vial_client_get(c, "/del_session");
    cr_assert_str_eq(r->body, "popped=xiaoming");
    cr_assert_str_eq(set_cookie_line(r, "session"),
                     "session=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; HttpOnly; Path=/");
    cr_assert_str_eq(vial_response_header(r, "Vary"), "Cookie");
    cr_assert_null(vial_client_cookie(c, "session"), "the client dropped the cookie");
    r = vial_client_get(c, "/get_session");
    cr_assert_str_eq(r->body, "username=None user_id=-1");
    /* clearing a session that was already empty still sends the deletion, as Flask */
    r = vial_client_get(c, "/clear");
    cr_assert_not_null(set_cookie_line(r, "session"));
    cr_assert_not_null(strstr(set_cookie_line(r, "session"), "Max-Age=0"));
    /* popping a key that is not there changes nothing: no cookie */
    r = vial_client_get(c, "/del_session");
    cr_assert_eq(set_cookie_count(r), 0);
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, permanent_sessions_expire_and_refresh) {
    vial_app *app = make_app();
    vial_config_set_int(app, "PERMANENT_SESSION_LIFETIME", 600);
    vial_client *c = vial_test_client(app);
    time_t before = time(NULL);
    vial_response *r = vial_client_get(c, "/perm");
    const char *line = set_cookie_line(r, "session");
    cr_assert_not_null(line);
    const char *expires = strstr(line, "Expires=");
    cr_assert_not_null(expires, "%s", line);
    cr_assert_null(strstr(line, "Max-Age"), "Flask sets only Expires: %s", line);
    /* the date is now + 600 s, whichever second the response was made in */
    char want[64], want_next[64];
    struct tm tm;
    time_t t = before + 600;
    strftime(want, sizeof want, "Expires=%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
    t++;
    strftime(want_next, sizeof want_next, "Expires=%a, %d %b %Y %H:%M:%S GMT", gmtime_r(&t, &tm));
    cr_assert(strncmp(expires, want, strlen(want)) == 0 || strncmp(expires, want_next, strlen(want_next)) == 0, "%s",
              line);
    vial_sign_status why;
    vial_value *s = decode_with(A, KEY, cookie_value_of(A, line), &why);
    cr_assert_str_eq(tagged(A, s), "{\"_permanent\":true,\"k\":\"v\"}");
    /* a permanent session is written again by every request that opens it */
    r = vial_client_get(c, "/is_perm");
    cr_assert_str_eq(r->body, "yes");
    cr_assert_not_null(set_cookie_line(r, "session"), "refreshed");
    /* ...but not by a request that never opens it */
    r = vial_client_get(c, "/untouched");
    cr_assert_eq(set_cookie_count(r), 0);
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, refresh_each_request_off) {
    vial_app *app = make_app();
    vial_config_set(app, "SESSION_REFRESH_EACH_REQUEST", "false");
    vial_client *c = vial_test_client(app);
    vial_client_get(c, "/perm");
    vial_response *r = vial_client_get(c, "/is_perm");
    cr_assert_str_eq(r->body, "yes");
    cr_assert_eq(set_cookie_count(r), 0);
    /* a non-permanent session is never refreshed */
    vial_client *c2 = vial_test_client(app);
    vial_client_get(c2, "/set_session");
    r = vial_client_get(c2, "/is_perm");
    cr_assert_str_eq(r->body, "no");
    cr_assert_eq(set_cookie_count(r), 0);
    vial_client_free(c2);
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, nested_changes_need_modified) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_client_get(c, "/set_session");
    vial_response *r = vial_client_get(c, "/nested");
    cr_assert_eq(set_cookie_count(r), 0, "an in-place change is not seen, as in Flask");
    r = vial_client_get(c, "/nested?mark=1");
    const char *line = set_cookie_line(r, "session");
    cr_assert_not_null(line);
    vial_sign_status why;
    vial_value *s = decode_with(A, KEY, cookie_value_of(A, line), &why);
    cr_assert_str_eq(tagged(A, vial_object_get(s, "data")), "[1,2,3,5,\"AAAA\",99]");
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, cookie_settings) {
    vial_app *app = make_app();
    vial_config_set(app, "SESSION_COOKIE_NAME", "sid");
    vial_config_set(app, "SESSION_COOKIE_DOMAIN", "example.com");
    vial_config_set(app, "SESSION_COOKIE_PATH", "/app");
    vial_config_set(app, "SESSION_COOKIE_HTTPONLY", "false");
    vial_config_set(app, "SESSION_COOKIE_SECURE", "true");
    vial_config_set(app, "SESSION_COOKIE_SAMESITE", "Lax");
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/set_session");
    cr_assert_null(set_cookie_line(r, "session"));
    const char *line = set_cookie_line(r, "sid");
    cr_assert_not_null(line);
    const char *attrs = strchr(line, ';');
    cr_assert_str_eq(attrs, "; Domain=example.com; Secure; Path=/app; SameSite=Lax");
    r = vial_client_get(c, "/get_session");
    cr_assert_str_eq(r->body, "username=xiaoming user_id=31", "read back from the renamed cookie");
    /* Partitioned (Flask 3.1) implies Secure */
    vial_config_set(app, "SESSION_COOKIE_SECURE", "false");
    vial_config_set(app, "SESSION_COOKIE_PARTITIONED", "true");
    r = vial_client_get(c, "/clear");
    line = set_cookie_line(r, "sid");
    cr_assert_not_null(strstr(line, "; Secure;"), "%s", line);
    cr_assert_not_null(strstr(line, "; Partitioned"), "%s", line);
    cr_assert_not_null(strstr(line, "Max-Age=0"), "%s", line);
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, application_root_is_the_default_path) {
    vial_app *app = make_app();
    vial_config_set(app, "APPLICATION_ROOT", "/shop");
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/set_session");
    cr_assert_not_null(strstr(set_cookie_line(r, "session"), "; Path=/shop"));
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, key_rotation_reads_old_cookies_and_signs_with_the_new_key) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_client_get(c, "/set_session");
    const char *old_cookie = vial_arena_strdup(A, vial_client_cookie(c, "session"));
    /* rotate: new key first, the old one as a fallback */
    vial_config_set(app, "SECRET_KEY", "the-new-key");
    vial_config_set_value(app, "SECRET_KEY_FALLBACKS", vial_pack_in(A, "[s]", KEY));
    vial_response *r = vial_client_get(c, "/get_session");
    cr_assert_str_eq(r->body, "username=xiaoming user_id=31", "the old cookie still reads");
    cr_assert_eq(set_cookie_count(r), 0, "reading does not re-sign");
    r = vial_client_get(c, "/nested?mark=1");
    const char *line = set_cookie_line(r, "session");
    cr_assert_not_null(line);
    vial_sign_status why;
    vial_value *s = decode_with(A, "the-new-key", cookie_value_of(A, line), &why);
    cr_assert_eq(why, VIAL_SIGN_OK, "re-signed with the new key");
    cr_assert_str_eq(vial_get_str(s, "username"), "xiaoming");
    decode_with(A, KEY, cookie_value_of(A, line), &why);
    cr_assert_eq(why, VIAL_SIGN_BAD_SIGNATURE, "not with the old one");
    /* once the fallback is removed, old cookies are a new session */
    vial_config_set_value(app, "SECRET_KEY_FALLBACKS", vial_pack_in(A, "[]"));
    vial_client_set_cookie(c, "session", old_cookie);
    r = vial_client_get(c, "/get_session");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "username=None user_id=-1");
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, tampered_expired_and_undecodable_cookies_are_empty_sessions) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_client_get(c, "/set_session");
    char *cookie = vial_arena_strdup(A, vial_client_cookie(c, "session"));
    /* every single-byte change of the payload or signature */
    size_t len = strlen(cookie);
    for (size_t i = 0; i < len; i += 7) {
        char *t = vial_arena_strdup(A, cookie);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        vial_client_set_cookie(c, "session", t);
        vial_response *r = vial_client_get(c, "/get_session");
        cr_assert_eq(r->status, 200);
        cr_assert_str_eq(r->body, "username=None user_id=-1", "byte %zu changed", i);
    }
    /* truncated */
    vial_client_set_cookie(c, "session", vial_arena_strndup(A, cookie, len - 3));
    cr_assert_str_eq(vial_client_get(c, "/get_session")->body, "username=None user_id=-1");
    /* signed with another key */
    vial_value *s = vial_pack_in(A, "{s:s}", "username", "mallory");
    vial_client_set_cookie(c, "session", encode_with(A, "another-key", s, time(NULL)));
    cr_assert_str_eq(vial_client_get(c, "/get_session")->body, "username=None user_id=-1");
    /* expired: older than PERMANENT_SESSION_LIFETIME */
    vial_client_set_cookie(c, "session", encode_with(A, KEY, s, time(NULL) - VIAL_SESSION_LIFETIME_DEFAULT - 60));
    cr_assert_str_eq(vial_client_get(c, "/get_session")->body, "username=None user_id=-1");
    vial_client_set_cookie(c, "session", encode_with(A, KEY, s, time(NULL) - 60));
    cr_assert_str_eq(vial_client_get(c, "/get_session")->body, "username=mallory user_id=-1", "a fresh one reads");
    /* correctly signed, but the payload is a list: Flask answers 500, vial an empty session */
    vial_str k = VIAL_STR(KEY);
    vial_signer signer = {.keys = &k, .nkeys = 1, .salt = VIAL_STR("cookie-session"),
                          .key_derivation = VIAL_KEY_DERIVATION_HMAC, .digest = "sha1"};
    vial_str token;
    cr_assert_eq(vial_serializer_dumps(A, &signer, vial_pack_in(A, "[i, i]", 1, 2), time(NULL), &token), VIAL_SIGN_OK);
    vial_client_set_cookie(c, "session", token.ptr);
    vial_response *r = vial_client_get(c, "/get_session");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "username=None user_id=-1");
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, unserializable_value_is_a_500) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/unserializable");
    cr_assert_eq(r->status, 500);
    cr_assert_eq(set_cookie_count(r), 0);
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, no_secret_key_reads_empty_and_refuses_writes_with_flasks_message) {
    char log_path[] = "/tmp/vial_session_log_XXXXXX";
    int fd = mkstemp(log_path);
    cr_assert_geq(fd, 0);
    close(fd);
    cr_assert_eq(vial_log_open(log_path), 0);
    vial_app *app = make_app();
    vial_config_set(app, "SECRET_KEY", NULL);
    vial_client *c = vial_test_client(app);
    vial_client_set_cookie(c, "session", encode_with(A, KEY, vial_pack_in(A, "{s:s}", "username", "x"), time(NULL)));
    vial_response *r = vial_client_get(c, "/get_session");
    cr_assert_eq(r->status, 200, "reading a null session is fine");
    cr_assert_str_eq(r->body, "username=None user_id=-1");
    cr_assert_eq(set_cookie_count(r), 0);
    r = vial_client_get(c, "/set_session");
    cr_assert_eq(r->status, 500);
    cr_assert_eq(set_cookie_count(r), 0, "never an unsigned cookie");
    cr_assert_null(strstr(r->body, "secret key"), "the message is for the log, not the client");
    vial_log_open(NULL);
    const char *log = slurp(A, log_path);
    cr_assert_not_null(strstr(log, VIAL_SESSION_NO_SECRET_KEY_MESSAGE), "log: %s", log);
    cr_assert_not_null(strstr(log, "/set_session"), "log: %s", log);
    unlink(log_path);
    /* with DEBUG the page says it */
    vial_config_set(app, "DEBUG", "true");
    r = vial_client_get(c, "/set_session");
    cr_assert_eq(r->status, 500);
    cr_assert_not_null(strstr(r->body, "The session is unavailable because no secret key was set."), "%s", r->body);
    /* pop and clear fail too (NullSession), even for missing keys */
    cr_assert_eq(vial_client_get(c, "/clear")->status, 500);
    cr_assert_eq(vial_client_get(c, "/del_session")->status, 500);
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, unknown_session_type_is_a_clear_500) {
    vial_app *app = make_app();
    vial_config_set(app, "SESSION_TYPE", "memcached");
    vial_config_set(app, "DEBUG", "true");
    vial_client *c = vial_test_client(app);
    vial_response *r = vial_client_get(c, "/get_session");
    cr_assert_eq(r->status, 500);
    cr_assert_not_null(strstr(r->body, "SESSION_TYPE &#39;memcached&#39; is not supported"), "%s", r->body);
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, vary_is_added_once_to_an_existing_vary) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_client_get(c, "/set_session");
    vial_response *r = vial_client_get(c, "/vary?v=Accept-Encoding");
    cr_assert_str_eq(vial_response_header(r, "Vary"), "Accept-Encoding, Cookie");
    r = vial_client_get(c, "/vary?v=accept,%20cookie");
    cr_assert_str_eq(vial_response_header(r, "Vary"), "accept, cookie");
    r = vial_client_get(c, "/vary?v=*");
    cr_assert_str_eq(vial_response_header(r, "Vary"), "*");
    vial_client_free(c);
    vial_app_free(app);
}

Test(session_app, dict_values_round_trip_through_the_cookie) {
    vial_app *app = make_app();
    vial_client *c = vial_test_client(app);
    vial_client_get(c, "/set_session");
    vial_response *r = vial_client_get(c, "/dump");
    vial_value *v = vial_response_json(c, r);
    cr_assert_not_null(v);
    cr_assert_eq(vial_get_int(v, "user_id", 0), 31);
    cr_assert_eq(vial_len(vial_object_get(v, "data")), 5);
    vial_client_free(c);
    vial_app_free(app);
}
