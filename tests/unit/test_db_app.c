/* The app's database inside requests (src/db/db_app.c, db_cli.c), through the
 * test client, on SQLite (default) or PostgreSQL (VIAL_TEST_DATABASE_URL):
 * DATABASE_URL and the root-relative default, one connection per request
 * returned at teardown, autocommit and explicit transactions rolled back when
 * left open, 404 helpers and pagination from ?page=, constraint errors as 500
 * or caught by the view, 503 with a log line when the database cannot serve,
 * and `./app db ...` with Click's layout. */
#include <sys/stat.h>

#include "db_testutil.h"

static const vial_model Item = {
    .table = "item",
    .columns = (const vial_column[]){
        {"id", VIAL_INTEGER, .primary_key = true},
        {"name", VIAL_TEXT, .not_null = true, .unique = true},
        {"qty", VIAL_INTEGER, .not_null = true, .default_sql = "0"},
        {0}},
};
static const vial_model *const models[] = {&Item, NULL};

static vial_app *app;
static vial_client *client;
static char root[256];
static char logpath[300];

/* ---- views ---- */

static void view_add(vial_req *rq, vial_res *rs) {
    const char *name = vial_form(rq, "name");
    int64_t qty = atoll(vial_form(rq, "qty") ? vial_form(rq, "qty") : "0");
    int64_t id = vial_insert(rq, &Item, vial_pack(rq, "{s:s, s:I}", "name", name, "qty", qty));
    vial_printf(rs, "%lld", (long long)id);
}

static void view_add_caught(vial_req *rq, vial_res *rs) {
    vial_db_catch(rq, VIAL_DB_CONSTRAINT);
    if (vial_exec(rq, "INSERT INTO item (name, qty) VALUES (?, ?)", vial_form(rq, "name"), 1) < 0) {
        vial_status(rs, 409);
        vial_printf(rs, "code=%s", vial_db_code_name(vial_db_error(rq)));
        return;
    }
    vial_printf(rs, "added");
}

/* The catch covers one call: a second violation in the same view is a 500. */
static void view_add_twice_caught_once(vial_req *rq, vial_res *rs) {
    vial_db_catch(rq, VIAL_DB_CONSTRAINT);
    int64_t first = vial_exec(rq, "INSERT INTO item (name) VALUES (?)", vial_form(rq, "name"));
    vial_exec(rq, "INSERT INTO item (name) VALUES (?)", vial_form(rq, "name"));
    vial_printf(rs, "not reached %lld", (long long)first);
}

static void view_get(vial_req *rq, vial_res *rs) {
    vial_value *row = vial_get_or_404(rq, &Item, vial_param_int(rq, "id"));
    vial_jsonify(rs, row);
}

static void view_get_plain(vial_req *rq, vial_res *rs) {
    vial_value *row = vial_get(rq, &Item, vial_param_int(rq, "id"));
    vial_printf(rs, "%s code=%s", row ? vial_get_str(row, "name") : "none", vial_db_code_name(vial_db_error(rq)));
}

static void view_by_name(vial_req *rq, vial_res *rs) {
    vial_value *row = vial_first_or_404(rq, &Item, .where = "name = ?", .args = VIAL_ARGS(vial_param(rq, "name")));
    vial_jsonify(rs, row);
}

static void view_raw_one(vial_req *rq, vial_res *rs) {
    vial_value *row =
        vial_query_one_or_404(rq, "SELECT name, qty FROM item WHERE id = ?", vial_param_int(rq, "id"));
    vial_jsonify(rs, row);
}

static void view_list(vial_req *rq, vial_res *rs) {
    vial_value *rows = vial_select(rq, &Item, .where = "qty >= ?", .args = VIAL_ARGS(1), .order_by = "name");
    int64_t n = vial_count(rq, &Item);
    vial_value *total = vial_query_scalar(rq, "SELECT COALESCE(SUM(qty), 0) AS s FROM item");
    vial_jsonify(rs, vial_pack(rq, "{s:o, s:I, s:o}", "rows", rows, "count", n, "sum", total));
}

static void view_page(vial_req *rq, vial_res *rs) {
    vial_value *p = vial_paginate_or_404(rq, &Item, .order_by = "id");
    vial_jsonify(rs, p);
}

static void view_page_soft(vial_req *rq, vial_res *rs) {
    vial_value *p = vial_paginate(rq, &Item, .order_by = "id");
    if (!p) {
        vial_printf(rs, "none: %s", vial_db_code_name(vial_db_error(rq)));
        return;
    }
    vial_jsonify(rs, p);
}

static void view_update(vial_req *rq, vial_res *rs) {
    int64_t n = vial_update(rq, &Item, vial_param_int(rq, "id"), vial_pack(rq, "{s:I}", "qty", (int64_t)99));
    vial_printf(rs, "%lld", (long long)n);
}

static void view_delete(vial_req *rq, vial_res *rs) {
    int64_t n = vial_delete(rq, &Item, vial_param_int(rq, "id"));
    vial_printf(rs, "%lld", (long long)n);
}

static void view_bulk(vial_req *rq, vial_res *rs) {
    int64_t up = vial_update_where(rq, &Item, vial_pack(rq, "{s:I}", "qty", (int64_t)5), .where = "qty < ?",
                                   .args = VIAL_ARGS(5));
    int64_t del = vial_delete_where(rq, &Item, .where = "name LIKE ?", .args = VIAL_ARGS("zz%"));
    vial_printf(rs, "%lld %lld", (long long)up, (long long)del);
}

/* begin + insert, then: ?end=commit | rollback | abort | (nothing: left open) */
static void view_tx(vial_req *rq, vial_res *rs) {
    const char *end = vial_arg(rq, "end");
    vial_begin(rq);
    vial_exec(rq, "INSERT INTO item (name) VALUES (?)", vial_arg(rq, "name"));
    if (end && strcmp(end, "commit") == 0) vial_commit(rq);
    if (end && strcmp(end, "rollback") == 0) vial_rollback(rq);
    if (end && strcmp(end, "abort") == 0) vial_abort(rq, 400);
    vial_printf(rs, "depth=%d", vial_db_depth(vial_req_db(rq)));
}

/* A savepoint around a statement that may fail keeps the outer work (both backends). */
static void view_savepoint(vial_req *rq, vial_res *rs) {
    vial_begin(rq);
    vial_exec(rq, "INSERT INTO item (name) VALUES (?)", "outer");
    vial_begin(rq);
    vial_db_catch(rq, VIAL_DB_CONSTRAINT);
    int64_t dup = vial_exec(rq, "INSERT INTO item (name) VALUES (?)", "outer");
    vial_rollback(rq);
    vial_commit(rq);
    vial_printf(rs, "dup=%lld", (long long)dup);
}

static void view_same_conn(vial_req *rq, vial_res *rs) {
    vial_db_conn *a = vial_req_db(rq);
    vial_query(rq, "SELECT 1 AS one");
    vial_db_conn *b = vial_req_db(rq);
    vial_db_stats st;
    vial_db_get_stats(vial_app_db(vial_req_app(rq)), &st);
    vial_printf(rs, "same=%d open=%d idle=%d", a == b, st.open, st.idle);
}

static void view_stats(vial_req *rq, vial_res *rs) {
    vial_db_stats st;
    vial_db_get_stats(vial_app_db(vial_req_app(rq)), &st);
    vial_printf(rs, "open=%d idle=%d connects=%llu", st.open, st.idle, (unsigned long long)st.connects);
}

static void view_bad_sql(vial_req *rq, vial_res *rs) {
    vial_query(rq, "SELEC nonsense FROM nowhere");
    vial_printf(rs, "not reached");
}

static void view_bad_value(vial_req *rq, vial_res *rs) {
    vial_insert(rq, &Item, vial_pack(rq, "{s:s}", "nmae", "typo"));
    vial_printf(rs, "not reached");
}

/* Holds the pool's only connection outside the request API, then asks for the request's. */
static void view_exhaust(vial_req *rq, vial_res *rs) {
    vial_db_conn *held = vial_db_acquire(vial_app_db(vial_req_app(rq)));
    vial_g_set_ptr(rq, "held", held);
    vial_query(rq, "SELECT 1 AS one");
    vial_printf(rs, "not reached");
}

static void release_held(vial_req *rq, int status) {
    (void)status;
    vial_db_conn *held = vial_g_get_ptr(rq, "held");
    if (held) vial_db_release(held);
}

static void view_select1(vial_req *rq, vial_res *rs) {
    vial_value *v = vial_query_scalar(rq, "SELECT 1 AS one");
    vial_printf(rs, "%lld", (long long)v->as.i);
}

static void make_app(void) {
    app = vial_app_new("dbapp");
    cr_assert_not_null(app);
    vial_app_set_root(app, root);
    vial_config_set(app, "DATABASE_URL", test_db_url(""));
    cr_assert_eq(vial_db_models(app, models), 0);
    vial_route(app, "/add", VIAL_POST, view_add);
    vial_route(app, "/add-caught", VIAL_POST, view_add_caught);
    vial_route(app, "/add-twice", VIAL_POST, view_add_twice_caught_once);
    vial_route(app, "/item/<int:id>", VIAL_GET, view_get);
    vial_route(app, "/plain/<int:id>", VIAL_GET, view_get_plain);
    vial_route(app, "/by-name/<name>", VIAL_GET, view_by_name);
    vial_route(app, "/raw/<int:id>", VIAL_GET, view_raw_one);
    vial_route(app, "/list", VIAL_GET, view_list);
    vial_route(app, "/page", VIAL_GET, view_page);
    vial_route(app, "/page-soft", VIAL_GET, view_page_soft);
    vial_route(app, "/update/<int:id>", VIAL_POST, view_update);
    vial_route(app, "/delete/<int:id>", VIAL_POST, view_delete);
    vial_route(app, "/bulk", VIAL_POST, view_bulk);
    vial_route(app, "/tx", VIAL_GET, view_tx);
    vial_route(app, "/savepoint", VIAL_GET, view_savepoint);
    vial_route(app, "/same", VIAL_GET, view_same_conn);
    vial_route(app, "/stats", VIAL_GET, view_stats);
    vial_route(app, "/bad-sql", VIAL_GET, view_bad_sql);
    vial_route(app, "/bad-value", VIAL_GET, view_bad_value);
    vial_route(app, "/exhaust", VIAL_GET, view_exhaust);
    vial_route(app, "/select1", VIAL_GET, view_select1);
    vial_teardown_request(app, release_held);
    client = vial_test_client(app);
    /* the schema, through the app's own database handle (as an init-db command does) */
    vial_db_conn *c = vial_db_acquire(vial_app_db(app));
    cr_assert_eq(vial_db_create_all(c, models), 0, "%s", vial_db_errmsg(c));
    vial_db_release(c);
}

static void setup(void) {
    test_db_setup();
    snprintf(root, sizeof root, "/tmp/vial-dbapp-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    snprintf(logpath, sizeof logpath, "%s/log.txt", root);
    cr_assert_eq(vial_log_open(logpath), 0);
    make_app();
}

static void teardown(void) {
    vial_client_free(client);
    vial_app_free(app);
    vial_log_open(NULL);
    test_db_rmtree(root);
    test_db_teardown();
}

TestSuite(db_app, .init = setup, .fini = teardown, .timeout = 120);

static char *read_log(void) {
    static char buf[16384];
    FILE *f = fopen(logpath, "r");
    if (!f) return "";
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static vial_response *add(const char *name, int qty) {
    char form[128];
    snprintf(form, sizeof form, "name=%s&qty=%d", name, qty);
    return vial_client_post(client, "/add", .form = form);
}

static int64_t count_rows(void) {
    vial_db_conn *c = vial_db_acquire(vial_app_db(app));
    vial_value *v = vial_db_scalar(c, T.a, "SELECT COUNT(*) AS n FROM item");
    cr_assert_not_null(v, "%s", vial_db_errmsg(c));
    int64_t n = v->as.i;
    vial_db_release(c);
    return n;
}

Test(db_app, insert_get_and_404) {
    vial_response *r = add("apple", 3);
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(r->body, "1");
    r = vial_client_get(client, "/item/1");
    cr_assert_eq(r->status, 200);
    vial_value *row = vial_response_json(client, r);
    cr_assert_str_eq(vial_get_str(row, "name"), "apple");
    cr_assert_eq(vial_get_int(row, "qty", -1), 3);
    r = vial_client_get(client, "/item/2");
    cr_assert_eq(r->status, 404);
    r = vial_client_get(client, "/plain/2");
    cr_assert_str_eq(r->body, "none code=not found");
    r = vial_client_get(client, "/plain/1");
    cr_assert_str_eq(r->body, "apple code=ok");
    r = vial_client_get(client, "/by-name/apple");
    cr_assert_eq(r->status, 200);
    r = vial_client_get(client, "/by-name/pear");
    cr_assert_eq(r->status, 404);
    r = vial_client_get(client, "/raw/1");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(vial_get_str(vial_response_json(client, r), "name"), "apple");
    r = vial_client_get(client, "/raw/7");
    cr_assert_eq(r->status, 404);
}

Test(db_app, select_count_scalar_update_delete) {
    add("b", 2);
    add("a", 1);
    add("c", 0);
    vial_response *r = vial_client_get(client, "/list");
    cr_assert_eq(r->status, 200, "%s", r->body);
    vial_value *v = vial_response_json(client, r);
    vial_value *rows = vial_object_get(v, "rows");
    cr_assert_eq(vial_len(rows), 2);
    cr_assert_str_eq(vial_get_str(vial_array_get(rows, 0), "name"), "a");
    cr_assert_str_eq(vial_get_str(vial_array_get(rows, 1), "name"), "b");
    cr_assert_eq(vial_get_int(v, "count", -1), 3);
    cr_assert_eq(vial_get_int(v, "sum", -1), 3);
    r = vial_client_post(client, "/update/1");
    cr_assert_str_eq(r->body, "1");
    r = vial_client_post(client, "/update/42");
    cr_assert_str_eq(r->body, "0");
    r = vial_client_get(client, "/item/1");
    cr_assert_eq(vial_get_int(vial_response_json(client, r), "qty", -1), 99);
    add("zz1", 7);
    r = vial_client_post(client, "/bulk");
    cr_assert_str_eq(r->body, "2 1", "a(1) and c(0) raised to 5; zz1 deleted");
    r = vial_client_post(client, "/delete/2");
    cr_assert_str_eq(r->body, "1");
    r = vial_client_post(client, "/delete/2");
    cr_assert_str_eq(r->body, "0");
    cr_assert_eq(count_rows(), 2);
}

Test(db_app, paginate_reads_page_args_like_flask_sqlalchemy) {
    char name[16];
    for (int i = 1; i <= 25; i++) {
        snprintf(name, sizeof name, "n%02d", i);
        add(name, i);
    }
    vial_response *r = vial_client_get(client, "/page");
    cr_assert_eq(r->status, 200);
    vial_value *p = vial_response_json(client, r);
    cr_assert_eq(vial_get_int(p, "page", 0), 1);
    cr_assert_eq(vial_get_int(p, "per_page", 0), 20);
    cr_assert_eq(vial_get_int(p, "total", 0), 25);
    cr_assert_eq(vial_len(vial_object_get(p, "items")), 20);
    r = vial_client_get(client, "/page?page=2&per_page=10");
    p = vial_response_json(client, r);
    cr_assert_eq(vial_get_int(p, "page", 0), 2);
    cr_assert_eq(vial_get_int(p, "first", 0), 11);
    cr_assert_eq(vial_get_int(p, "pages", 0), 3);
    r = vial_client_get(client, "/page?page=%203%20");
    cr_assert_eq(r->status, 404, "page 3 of 20 per page is past the end");
    r = vial_client_get(client, "/page?page=x");
    cr_assert_eq(r->status, 404, "not an integer: 404 as Flask-SQLAlchemy's error_out");
    r = vial_client_get(client, "/page?page=0");
    cr_assert_eq(r->status, 404);
    r = vial_client_get(client, "/page?per_page=-1");
    cr_assert_eq(r->status, 404);
    r = vial_client_get(client, "/page-soft?page=9");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "none: not found");
}

Test(db_app, constraint_error_is_500_unless_caught) {
    cr_assert_eq(add("dup", 1)->status, 200);
    vial_response *r = add("dup", 2);
    cr_assert_eq(r->status, 500, "a UNIQUE violation the view does not expect is a 500");
    cr_assert_null(strstr(r->body, "UNIQUE"), "the reason is not shown outside debug mode");
    cr_assert(strstr(read_log(), "POST /add: 500: database constraint violation:"), "%s", read_log());
    r = vial_client_post(client, "/add-caught", .form = "name=dup");
    cr_assert_eq(r->status, 409);
    cr_assert_str_eq(r->body, "code=constraint violation");
    r = vial_client_post(client, "/add-caught", .form = "name=fresh");
    cr_assert_str_eq(r->body, "added");
    r = vial_client_post(client, "/add-twice", .form = "name=dup");
    cr_assert_eq(r->status, 500, "vial_db_catch covers the next call only");
    cr_assert_eq(count_rows(), 2);
}

Test(db_app, sql_and_model_errors_are_500_with_details_in_debug) {
    vial_response *r = vial_client_get(client, "/bad-sql");
    cr_assert_eq(r->status, 500);
    cr_assert(strstr(read_log(), "GET /bad-sql: 500: database error:"), "%s", read_log());
    r = vial_client_get(client, "/bad-value");
    cr_assert_eq(r->status, 500);
    cr_assert(strstr(read_log(), "item has no column \"nmae\""), "%s", read_log());
    vial_config_set_bool(app, "DEBUG", true);
    r = vial_client_get(client, "/bad-value");
    cr_assert_eq(r->status, 500);
    cr_assert(strstr(r->body, "item has no column"), "debug pages show the reason: %s", r->body);
}

Test(db_app, autocommit_and_transactions) {
    vial_response *r = vial_client_get(client, "/tx?name=open");
    cr_assert_eq(r->status, 200);
    cr_assert_str_eq(r->body, "depth=1");
    cr_assert_eq(count_rows(), 0, "a transaction the view left open is rolled back at teardown");
    cr_assert(strstr(read_log(), "GET /tx: the view left a transaction open; rolled back"), "%s", read_log());
    r = vial_client_get(client, "/tx?name=kept&end=commit");
    cr_assert_str_eq(r->body, "depth=0");
    cr_assert_eq(count_rows(), 1);
    r = vial_client_get(client, "/tx?name=undone&end=rollback");
    cr_assert_eq(count_rows(), 1);
    r = vial_client_get(client, "/tx?name=aborted&end=abort");
    cr_assert_eq(r->status, 400);
    cr_assert_eq(count_rows(), 1, "an aborted request's transaction is rolled back");
    add("auto", 1); /* no transaction: the statement commits on its own */
    cr_assert_eq(count_rows(), 2);
    r = vial_client_get(client, "/savepoint");
    cr_assert_eq(r->status, 200, "%s", r->body);
    cr_assert_str_eq(r->body, "dup=-1");
    cr_assert_eq(count_rows(), 3, "the savepoint's failure leaves the outer insert");
}

Test(db_app, one_connection_per_request_returned_at_teardown) {
    vial_response *r = vial_client_get(client, "/same");
    cr_assert_str_eq(r->body, "same=1 open=1 idle=0");
    for (int i = 0; i < 5; i++) cr_assert_eq(vial_client_get(client, "/select1")->status, 200);
    r = vial_client_get(client, "/stats"); /* a view without database calls takes no connection */
    cr_assert_str_eq(r->body, "open=1 idle=1 connects=1", "the pool's one connection is reused request after request: %s", r->body);
    vial_db_stats st;
    vial_db_get_stats(vial_app_db(app), &st);
    cr_assert_eq(st.open, st.idle, "every connection is back in the pool");
}

Test(db_app, pool_exhausted_is_503_with_a_log_line) {
    vial_config_set_int(app, "DATABASE_POOL_SIZE", 1);
    vial_response *r = vial_client_get(client, "/exhaust");
    cr_assert_eq(r->status, 503, "%s", r->body);
    cr_assert(strstr(read_log(), "GET /exhaust: 503: database unavailable: connection pool exhausted"), "%s",
              read_log());
    r = vial_client_get(client, "/select1");
    cr_assert_eq(r->status, 200, "the held connection went back: the next request is served");
}

Test(db_app, unreachable_database_is_503) {
    char url[128];
    snprintf(url, sizeof url, "postgresql://vial@127.0.0.1:%d/nothing?connect_timeout=2", test_db_closed_port());
    vial_config_set(app, "DATABASE_URL", url);
    vial_response *r = vial_client_get(client, "/select1");
    cr_assert_eq(r->status, 503);
    cr_assert(strstr(read_log(), "GET /select1: 503: database unavailable:"), "%s", read_log());
    cr_assert(strstr(r->body, "503 Service Unavailable"), "%s", r->body);
}

Test(db_app, bad_database_url_is_500_naming_the_problem) {
    vial_config_set(app, "DATABASE_URL", "mysql://x/y");
    vial_response *r = vial_client_get(client, "/select1");
    cr_assert_eq(r->status, 500);
    cr_assert(strstr(read_log(), "DATABASE_URL cannot be used: unsupported database URL scheme \"mysql\""), "%s",
              read_log());
}

Test(db_app, database_url_change_takes_effect) {
    add("first", 1);
    if (T.pg) return; /* one server: the SQLite part below is about files */
    char url[400];
    snprintf(url, sizeof url, "sqlite:///%s/other.db", root);
    vial_config_set(app, "DATABASE_URL", url);
    vial_response *r = add("x", 1);
    cr_assert_eq(r->status, 500, "the new database has no table yet");
    struct stat st;
    cr_assert_eq(stat(url + 10, &st), 0, "the new file was opened");
}

Test(db_app, default_url_is_relative_to_the_app_root_and_creates_instance) {
    if (T.pg) return; /* the SQLite default */
    vial_app *a2 = vial_app_new("rooted");
    vial_app_set_root(a2, root);
    vial_route(a2, "/select1", VIAL_GET, view_select1);
    vial_client *c2 = vial_test_client(a2);
    char path[400];
    snprintf(path, sizeof path, "%s/instance", root);
    struct stat st;
    cr_assert_neq(stat(path, &st), 0, "nothing is created before first use");
    vial_response *r = vial_client_get(c2, "/select1");
    cr_assert_eq(r->status, 200, "%s", r->body);
    snprintf(path, sizeof path, "%s/instance/app.db", root);
    cr_assert_eq(stat(path, &st), 0, "sqlite:///instance/app.db lives in the app root's instance folder");
    vial_client_free(c2);
    vial_app_free(a2);
}

/* ---- ./app db ... ---- */

static int run_cli(const char *const *args) {
    char *argv[16];
    int argc = 0;
    argv[argc++] = "dbapp";
    for (; *args; args++) argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    fflush(stdout);
    fflush(stderr);
    return vial_main(app, argc, argv);
}

static char *slurp(FILE *f) {
    static char buf[65536];
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    return buf;
}

/* Runs the CLI with stdout/stderr captured in files; returns the exit status. */
static int cli(char **out, char **err, const char *const *args) {
    static char out_buf[65536], err_buf[65536];
    char out_path[300], err_path[300];
    snprintf(out_path, sizeof out_path, "%s/out.txt", root);
    snprintf(err_path, sizeof err_path, "%s/err.txt", root);
    fflush(stdout);
    fflush(stderr);
    int saved_out = dup(1), saved_err = dup(2);
    FILE *fo = fopen(out_path, "w+"), *fe = fopen(err_path, "w+");
    dup2(fileno(fo), 1);
    dup2(fileno(fe), 2);
    int rc = run_cli(args);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    snprintf(out_buf, sizeof out_buf, "%s", slurp(fo));
    snprintf(err_buf, sizeof err_buf, "%s", slurp(fe));
    fclose(fo);
    fclose(fe);
    *out = out_buf;
    *err = err_buf;
    return rc;
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

Test(db_app, cli_help_and_usage_errors_follow_click) {
    char *out, *err;
    cr_assert_eq(cli(&out, &err, ARGS("--help")), 0);
    cr_assert(strstr(out, "  db "), "the app's help lists db: %s", out);
    cr_assert_eq(cli(&out, &err, ARGS("db", "--help")), 0);
    cr_assert(strstr(out, "Usage: dbapp db [OPTIONS] COMMAND [ARGS]...\n\n  Perform database migrations."), "%s", out);
    const char *cmds[] = {"current", "downgrade", "history", "init", "migrate", "revision", "upgrade"};
    for (size_t i = 0; i < 7; i++) {
        char needle[32];
        snprintf(needle, sizeof needle, "\n  %s ", cmds[i]);
        cr_assert(strstr(out, needle), "db --help lists %s: %s", cmds[i], out);
    }
    cr_assert_eq(cli(&out, &err, ARGS("db")), 0, "a group without a command shows its help");
    cr_assert(strstr(out, "Commands:"));
    cr_assert_eq(cli(&out, &err, ARGS("db", "upgrade", "--help")), 0);
    cr_assert(strstr(out, "Usage: dbapp db upgrade [OPTIONS] [REVISION]\n"), "%s", out);
    cr_assert_eq(cli(&out, &err, ARGS("db", "frobnicate")), 2);
    cr_assert_str_eq(err, "Usage: dbapp db [OPTIONS] COMMAND [ARGS]...\nTry 'dbapp db --help' for help.\n\n"
                          "Error: No such command 'frobnicate'.\n");
    cr_assert_eq(cli(&out, &err, ARGS("db", "upgrade", "--bogus")), 2);
    cr_assert_str_eq(err, "Usage: dbapp db upgrade [OPTIONS] [REVISION]\nTry 'dbapp db upgrade --help' for help.\n\n"
                          "Error: No such option: --bogus\n");
    cr_assert_eq(cli(&out, &err, ARGS("db", "current", "extra")), 2);
    cr_assert(strstr(err, "Error: Got unexpected extra argument (extra)\n"), "%s", err);
    cr_assert_eq(cli(&out, &err, ARGS("db", "revision")), 2);
    cr_assert(strstr(err, "Error: Missing option '-m' / '--message'.\n"), "%s", err);
    cr_assert_eq(cli(&out, &err, ARGS("db", "revision", "-m")), 2);
    cr_assert(strstr(err, "Error: Option '-m' requires an argument.\n"), "%s", err);
    cr_assert_eq(cli(&out, &err, ARGS("db", "upgrade", "-m", "x")), 2, "upgrade takes no message");
}

Test(db_app, cli_migrations_against_the_apps_database) {
    char *out, *err;
    /* start from an empty database: the fixture created the table */
    vial_db_conn *c = vial_db_acquire(vial_app_db(app));
    cr_assert_eq(vial_db_drop_all(c, models), 0, "%s", vial_db_errmsg(c));
    vial_db_release(c);
    cr_assert_eq(cli(&out, &err, ARGS("db", "init")), 0, "%s", err);
    char path[400];
    snprintf(path, sizeof path, "%s/migrations", root);
    struct stat st;
    cr_assert_eq(stat(path, &st), 0, "migrations/ is created under the app root");
    cr_assert_eq(cli(&out, &err, ARGS("db", "migrate", "-m", "add item")), 0, "%s", err);
    cr_assert(strstr(out, "Detected added table 'item'"), "%s", out);
    cr_assert(strstr(out, "0001_add_item.sql"), "%s", out);
    cr_assert_eq(cli(&out, &err, ARGS("db", "upgrade")), 0, "%s", err);
    cr_assert_eq(cli(&out, &err, ARGS("db", "current")), 0, "%s", err);
    cr_assert(strstr(out, "0001 (head)"), "%s", out);
    cr_assert_eq(cli(&out, &err, ARGS("db", "revision", "--message=second")), 0, "%s", err);
    cr_assert_eq(cli(&out, &err, ARGS("db", "history")), 0, "%s", err);
    cr_assert(strstr(out, "second"), "%s", out);
    cr_assert(strstr(out, "(pending)"), "%s", out);
    cr_assert_eq(cli(&out, &err, ARGS("db", "upgrade")), 0, "%s", err);
    cr_assert_eq(add("after-migration", 1)->status, 200, "the migrated table serves requests");
    cr_assert_eq(cli(&out, &err, ARGS("db", "downgrade", "base")), 0, "%s", err);
    cr_assert_eq(add("gone", 1)->status, 500, "downgraded to base: no table");
    cr_assert_eq(cli(&out, &err, ARGS("db", "upgrade", "-d", "/nonexistent/dir")), 1, "a missing folder is an error");
    cr_assert(strstr(err, "Error"), "%s", err);
}
