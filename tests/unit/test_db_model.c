/* Models on SQLite (default) or PostgreSQL (VIAL_TEST_DATABASE_URL): DDL,
 * create/drop all, validation before SQL, CRUD, the query builder,
 * pagination (Flask-SQLAlchemy's numbers) and relationships by both loading
 * strategies. */
#include "db/db.h"
#include "db_testutil.h"

static const vial_model User, Post, Thing;

static const vial_relation user_relations[] = {
    {"posts", &Post, "author_id", .order_by = "created DESC"},
    {0},
};
static const vial_relation post_relations[] = {
    {"author", &User, "author_id", .many_to_one = true},
    {0},
};

static const vial_model User = {
    .table = "user",
    .columns = (const vial_column[]){
        {"id", VIAL_INTEGER, .primary_key = true},
        {"username", VIAL_TEXT, .not_null = true, .unique = true},
        {"password", VIAL_TEXT, .not_null = true},
        {0}},
    .relations = user_relations,
};

static const vial_model Post = {
    .table = "post",
    .columns = (const vial_column[]){
        {"id", VIAL_INTEGER, .primary_key = true},
        {"author_id", VIAL_INTEGER, .not_null = true, .references = "user.id", .on_delete = "cascade", .index = true},
        {"created", VIAL_TIMESTAMP, .not_null = true, .default_sql = "CURRENT_TIMESTAMP"},
        {"title", VIAL_TEXT, .not_null = true},
        {"body", VIAL_TEXT, .not_null = true},
        {0}},
    .relations = post_relations,
};

static const vial_model Thing = {
    .table = "thing",
    .columns = (const vial_column[]){
        {"id", VIAL_INTEGER, .primary_key = true},
        VIAL_COLUMN("name", VIAL_TEXT),
        {"count", VIAL_INTEGER, .default_sql = "0", .not_null = true},
        VIAL_COLUMN("ratio", VIAL_REAL),
        {"active", VIAL_BOOLEAN, .default_sql = "1", .not_null = true},
        VIAL_COLUMN("seen", VIAL_TIMESTAMP),
        VIAL_COLUMN("data", VIAL_BLOB),
        {"status", VIAL_TEXT, .default_sql = "'new'"},
        {0}},
    .indexes = (const vial_index[]){{"ix_thing_name_count", "name, count", .unique = true}, {0}},
};

static const vial_model *const models[] = {&Post, &Thing, &User, NULL}; /* out of order on purpose */

static vial_db_conn *C;

static void setup(void) {
    test_db_setup();
    C = vial_db_acquire(T.db);
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_OK, "%s", vial_db_errmsg(C));
    cr_assert_eq(vial_db_create_all(C, models), 0, "create_all: %s", vial_db_errmsg(C));
}

static void teardown(void) {
    vial_db_release(C);
    test_db_teardown();
}

TestSuite(db_model, .init = setup, .fini = teardown, .timeout = 120);

static int64_t add_user(const char *name) {
    int64_t id = vial_db_insert(C, &User, vial_pack_in(T.a, "{s:s, s:s}", "username", name, "password", "pw"));
    cr_assert_gt(id, 0, "insert user %s: %s", name, vial_db_errmsg(C));
    return id;
}

static int64_t add_post(int64_t author, const char *title, const char *created) {
    vial_value *row = vial_pack_in(T.a, "{s:I, s:s, s:s}", "author_id", (long long)author, "title", title, "body", "b");
    if (created) vial_object_set(row, "created", vial_new_str(T.a, created));
    int64_t id = vial_db_insert(C, &Post, row);
    cr_assert_gt(id, 0, "insert post %s: %s", title, vial_db_errmsg(C));
    return id;
}

static bool table_works(const char *table) {
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
    return vial_db_scalar(C, T.a, sql) != NULL;
}

/* ---- schema ---- */

static const vial_model two_pks = {
    .table = "bad",
    .columns = (const vial_column[]){{"a", VIAL_INTEGER, .primary_key = true},
                                     {"b", VIAL_INTEGER, .primary_key = true}, {0}}};
static const vial_model bad_ref = {
    .table = "bad", .columns = (const vial_column[]){{"a", VIAL_INTEGER, .references = "user"}, {0}}};
static const vial_model bad_index = {.table = "bad",
                                     .columns = (const vial_column[]){VIAL_COLUMN("a", VIAL_INTEGER), {0}},
                                     .indexes = (const vial_index[]){{"ix", "a, nope", .unique = false}, {0}}};
static const vial_model Ghost = {
    .table = "ghost",
    .columns = (const vial_column[]){{"id", VIAL_INTEGER, .primary_key = true}, VIAL_COLUMN("x", VIAL_TEXT), {0}}};


Test(db_model, create_all_is_idempotent_and_drop_all_removes) {
    cr_assert(table_works("user") && table_works("post") && table_works("thing"));
    cr_assert_eq(vial_db_create_all(C, models), 0, "a second create_all: %s", vial_db_errmsg(C));
    add_post(add_user("a"), "t", NULL);
    cr_assert_eq(vial_db_drop_all(C, models), 0, "drop_all: %s", vial_db_errmsg(C));
    cr_assert(!table_works("user"));
    cr_assert(!table_works("post"));
    cr_assert_eq(vial_db_drop_all(C, models), 0, "dropping absent tables is fine: %s", vial_db_errmsg(C));
}

Test(db_model, ddl_for_each_backend) {
    const vial_model *just_post[] = {&Post, NULL};
    char *sqlite = vial_db_schema_sql(T.a, VIAL_DB_SQLITE, just_post);
    cr_assert_str_eq(sqlite, "CREATE TABLE \"post\" (\n"
                             "    \"id\" INTEGER PRIMARY KEY AUTOINCREMENT,\n"
                             "    \"author_id\" INTEGER NOT NULL REFERENCES \"user\" (\"id\") ON DELETE CASCADE,\n"
                             "    \"created\" TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,\n"
                             "    \"title\" TEXT NOT NULL,\n"
                             "    \"body\" TEXT NOT NULL\n"
                             ");\n"
                             "CREATE INDEX \"ix_post_author_id\" ON \"post\" (\"author_id\");\n");
    char *pg = vial_db_schema_sql(T.a, VIAL_DB_POSTGRES, just_post);
    cr_assert_not_null(strstr(pg, "\"id\" BIGSERIAL PRIMARY KEY,"), "%s", pg);
    cr_assert_not_null(strstr(pg, "\"author_id\" BIGINT NOT NULL REFERENCES"), "%s", pg);
    cr_assert_not_null(strstr(pg, "\"created\" TIMESTAMP(0) NOT NULL DEFAULT date_trunc('second', LOCALTIMESTAMP)"),
                       "%s", pg);
    const vial_model *just_thing[] = {&Thing, NULL};
    char *thing = vial_db_schema_sql(T.a, VIAL_DB_SQLITE, just_thing);
    cr_assert_not_null(strstr(thing, "\"active\" BOOLEAN NOT NULL DEFAULT TRUE"), "%s", thing);
    cr_assert_not_null(strstr(thing, "\"status\" TEXT DEFAULT 'new'"), "%s", thing);
    cr_assert_not_null(strstr(thing, "CREATE UNIQUE INDEX \"ix_thing_name_count\" ON \"thing\" (\"name\", \"count\");"),
                       "%s", thing);
    /* models are put in foreign-key order whatever order they are given in */
    char *all = vial_db_schema_sql(T.a, VIAL_DB_SQLITE, models);
    cr_assert_lt(strstr(all, "CREATE TABLE \"user\""), strstr(all, "CREATE TABLE \"post\""));
}

Test(db_model, bad_models_are_refused) {
    const vial_model *l1[] = {&two_pks, NULL}, *l2[] = {&bad_ref, NULL}, *l3[] = {&bad_index, NULL};
    cr_assert_eq(vial_db_create_all(C, l1), -1);
    cr_assert_not_null(strstr(vial_db_errmsg(C), "primary key"), "%s", vial_db_errmsg(C));
    cr_assert_eq(vial_db_create_all(C, l2), -1);
    cr_assert_not_null(strstr(vial_db_errmsg(C), "table.column"), "%s", vial_db_errmsg(C));
    cr_assert_eq(vial_db_create_all(C, l3), -1);
    cr_assert_not_null(strstr(vial_db_errmsg(C), "nope"), "%s", vial_db_errmsg(C));
    cr_assert(!table_works("bad"), "nothing half-created");
}

/* ---- validation ---- */

static void expect_invalid(int64_t rc, const char *fragment) {
    cr_assert_eq(rc, -1);
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_INVALID, "%s", vial_db_errmsg(C));
    cr_assert_not_null(strstr(vial_db_errmsg(C), fragment), "\"%s\" not in: %s", fragment, vial_db_errmsg(C));
}

Test(db_model, values_are_checked_before_any_sql) {
    int64_t uid = add_user("ann");
    expect_invalid(vial_db_insert(C, &Post, vial_pack_in(T.a, "{s:I, s:s, s:s}", "author_id", (long long)uid,
                                                         "titel", "x", "body", "b")),
                   "post has no column \"titel\"");
    expect_invalid(vial_db_insert(C, &Post, vial_pack_in(T.a, "{s:I, s:i, s:s}", "author_id", (long long)uid,
                                                         "title", 5, "body", "b")),
                   "post.title must be text, not an integer");
    expect_invalid(vial_db_insert(C, &Post, vial_pack_in(T.a, "{s:I, s:n, s:s}", "author_id", (long long)uid,
                                                         "title", "body", "b")),
                   "post.title may not be NULL");
    expect_invalid(vial_db_insert(C, &Post, vial_pack_in(T.a, "{s:I, s:s}", "author_id", (long long)uid, "body", "b")),
                   "post.title is required");
    expect_invalid(vial_db_insert(C, &Post, vial_pack_in(T.a, "{s:s, s:s, s:s}", "author_id", "1", "title", "t",
                                                         "body", "b")),
                   "post.author_id must be an integer, not a string (\"1\")");
    expect_invalid(vial_db_insert(C, &Post, vial_pack_in(T.a, "{s:I, s:s, s:s, s:s}", "author_id", (long long)uid,
                                                         "title", "t", "body", "b", "created", "yesterday")),
                   "post.created must be a timestamp");
    vial_value *bad_utf8 = vial_pack_in(T.a, "{s:I, s:s, s:s}", "author_id", (long long)uid, "title", "t", "body", "b");
    vial_object_set(bad_utf8, "title", vial_new_strn(T.a, "a\xff", 2));
    expect_invalid(vial_db_insert(C, &Post, bad_utf8), "not valid UTF-8");
    expect_invalid(vial_db_insert(C, &Thing, vial_pack_in(T.a, "{s:f}", "active", 0.5)),
                   "thing.active must be a boolean, not a float (0.5)");
    expect_invalid(vial_db_insert(C, &Post, vial_new_array(T.a)), "expected an object");
    expect_invalid(vial_db_update(C, &Post, 1, vial_pack_in(T.a, "{s:b}", "nope", 1)), "post has no column \"nope\"");
    expect_invalid(vial_db_update(C, &Post, 1, vial_new_object(T.a)), "nothing to update");
    expect_invalid(vial_db_update(C, &Post, 1, vial_pack_in(T.a, "{s:n}", "id")), "primary key");
    cr_assert_null(vial_db_get(C, T.a, &Post, "1"));
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_INVALID);
    cr_assert_eq(vial_db_count(C, &Post, .where = NULL), 0, "nothing was written");
    /* the checks run before SQL: a model whose table does not exist still gets them */
    expect_invalid(vial_db_insert(C, &Ghost, vial_pack_in(T.a, "{s:s}", "y", "v")), "ghost has no column \"y\"");
    char msg[200];
    cr_assert_eq(vial_db_check(&Post, vial_pack_in(T.a, "{s:s}", "title", "t"), false, msg, sizeof msg), 0);
    cr_assert_eq(vial_db_check(&Post, vial_pack_in(T.a, "{s:s}", "title", "t"), true, msg, sizeof msg), -1);
    cr_assert_str_eq(msg, "post.author_id is required (NOT NULL without a default)");
}

/* ---- CRUD ---- */

Test(db_model, insert_get_update_delete) {
    int64_t uid = add_user("bob");
    cr_assert_eq(uid, 1);
    int64_t pid = add_post(uid, "first", NULL);
    cr_assert_eq(pid, 1);
    cr_assert_eq(add_post(uid, "second", NULL), 2);
    vial_value *p = vial_db_get(C, T.a, &Post, pid);
    cr_assert_not_null(p, "%s", vial_db_errmsg(C));
    cr_assert_eq(vial_get_int(p, "id", 0), 1);
    cr_assert_eq(vial_get_int(p, "author_id", 0), uid);
    cr_assert_str_eq(vial_get_str(p, "title"), "first");
    const char *created = vial_get_str(p, "created");
    cr_assert_not_null(created, "the default filled the timestamp");
    char norm[20];
    cr_assert_eq(strlen(created), 19, "%s", created);
    cr_assert_eq(vial_db_timestamp_normalize(created, 19, norm), 0, "%s", created);
    cr_assert_str_eq(norm, created, "already in YYYY-MM-DD HH:MM:SS form");

    cr_assert_null(vial_db_get(C, T.a, &Post, 99));
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_NOT_FOUND);

    cr_assert_eq(vial_db_update(C, &Post, pid, vial_pack_in(T.a, "{s:s, s:s}", "title", "edited", "body", "new")), 1,
                 "%s", vial_db_errmsg(C));
    cr_assert_str_eq(vial_get_str(vial_db_get(C, T.a, &Post, pid), "title"), "edited");
    cr_assert_eq(vial_db_update(C, &Post, 99, vial_pack_in(T.a, "{s:s}", "title", "x")), 0);
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_NOT_FOUND);

    cr_assert_eq(vial_db_delete(C, &Post, pid), 1);
    cr_assert_null(vial_db_get(C, T.a, &Post, pid));
    cr_assert_eq(vial_db_delete(C, &Post, pid), 0);
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_NOT_FOUND);
    cr_assert_eq(vial_db_count(C, &Post, .where = NULL), 1);
}

Test(db_model, typed_columns_and_defaults) {
    static const unsigned char raw[] = {0, 0xfe, 'z'};
    vial_value *row = vial_pack_in(T.a, "{s:s, s:f, s:s}", "name", "w", "ratio", 0.75, "seen", "2024-01-02T03:04:05+02:00");
    vial_object_set(row, "data", vial_db_blob(T.a, raw, sizeof raw));
    int64_t id = vial_db_insert(C, &Thing, row);
    cr_assert_gt(id, 0, "%s", vial_db_errmsg(C));
    vial_value *t = vial_db_get(C, T.a, &Thing, id);
    cr_assert_not_null(t, "%s", vial_db_errmsg(C));
    char *json = vial_json_encode(T.a, vial_pack_in(T.a, "{s:o, s:o, s:o, s:o, s:o, s:o}", "name",
                                                    vial_object_get(t, "name"), "count", vial_object_get(t, "count"),
                                                    "ratio", vial_object_get(t, "ratio"), "active",
                                                    vial_object_get(t, "active"), "seen", vial_object_get(t, "seen"),
                                                    "status", vial_object_get(t, "status")),
                                  0, NULL);
    cr_assert_str_eq(json,
                     "{\"name\":\"w\",\"count\":0,\"ratio\":0.75,\"active\":true,\"seen\":\"2024-01-02 01:04:05\","
                     "\"status\":\"new\"}");
    vial_value *data = vial_object_get(t, "data");
    cr_assert(data->flags & VIAL_FLAG_BLOB);
    cr_assert_eq(data->as.s.len, 3);
    cr_assert_eq(memcmp(data->as.s.ptr, raw, 3), 0);
    /* bools from C ints, timestamps from epoch seconds */
    cr_assert_eq(vial_db_update(C, &Thing, id, vial_pack_in(T.a, "{s:i, s:I}", "active", 0, "seen", 0LL)), 1, "%s",
                 vial_db_errmsg(C));
    t = vial_db_get(C, T.a, &Thing, id);
    cr_assert_eq(vial_object_get(t, "active")->type, VIAL_BOOL);
    cr_assert(!vial_object_get(t, "active")->as.b);
    cr_assert_str_eq(vial_get_str(t, "seen"), "1970-01-01 00:00:00");
    /* filters compare timestamps in the same normal form */
    cr_assert_eq(vial_db_count(C, &Thing, .filter_by = vial_pack_in(T.a, "{s:s}", "seen", "1970-01-01T00:00:00Z")), 1,
                 "%s", vial_db_errmsg(C));
    /* the composite unique index holds */
    cr_assert_eq(vial_db_insert(C, &Thing, vial_pack_in(T.a, "{s:s, s:i}", "name", "w", "count", 0)), -1);
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_CONSTRAINT, "%s", vial_db_errmsg(C));
}

Test(db_model, constraints_from_the_model) {
    int64_t uid = add_user("cat");
    cr_assert_eq(vial_db_insert(C, &User, vial_pack_in(T.a, "{s:s, s:s}", "username", "cat", "password", "x")), -1);
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_CONSTRAINT, "unique username: %s", vial_db_errmsg(C));
    cr_assert_eq(vial_db_insert(C, &Post, vial_pack_in(T.a, "{s:i, s:s, s:s}", "author_id", 999, "title", "t", "body", "b")),
                 -1);
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_CONSTRAINT, "foreign key: %s", vial_db_errmsg(C));
    add_post(uid, "p", NULL);
    cr_assert_eq(vial_db_delete(C, &User, uid), 1, "%s", vial_db_errmsg(C));
    cr_assert_eq(vial_db_count(C, &Post, .where = NULL), 0, "ON DELETE CASCADE removed the post");
}

Test(db_model, explicit_ids_do_not_collide_with_later_ones) {
    cr_assert_eq(vial_db_insert(C, &User, vial_pack_in(T.a, "{s:i, s:s, s:s}", "id", 1, "username", "test", "password", "p")), 1,
                 "%s", vial_db_errmsg(C));
    cr_assert_eq(vial_db_insert(C, &User, vial_pack_in(T.a, "{s:i, s:s, s:s}", "id", 2, "username", "other", "password", "p")), 2,
                 "%s", vial_db_errmsg(C));
    cr_assert_eq(add_user("third"), 3);
    cr_assert_eq(vial_db_insert(C, &User, vial_pack_in(T.a, "{s:n, s:s, s:s}", "id", "username", "fourth", "password", "p")), 4,
                 "a NULL id is numbered by the database: %s", vial_db_errmsg(C));
}

/* ---- the query builder ---- */

static void seed_posts(void) {
    int64_t a = add_user("alice"), b = add_user("bert");
    add_post(a, "a1", "2024-01-01 10:00:00");
    add_post(b, "b1", "2024-01-02 10:00:00");
    add_post(a, "a2", "2024-01-03 10:00:00");
    add_post(a, "a3", "2024-01-04 10:00:00");
    add_post(b, "b2", "2024-01-05 10:00:00");
}

static const char *titles(vial_value *rows) {
    vial_buf b;
    vial_buf_init(&b, T.a, 4096);
    for (size_t i = 0; i < vial_len(rows); i++)
        vial_buf_printf(&b, "%s%s", i ? "," : "", vial_get_str(vial_array_get(rows, i), "title"));
    return vial_buf_cstr(&b);
}

Test(db_model, filter_order_limit_offset) {
    seed_posts();
    vial_value *rows = vial_db_select(C, T.a, &Post, .where = "author_id = ?", .args = VIAL_ARGS(1),
                                      .order_by = "created DESC");
    cr_assert_not_null(rows, "%s", vial_db_errmsg(C));
    cr_assert_str_eq(titles(rows), "a3,a2,a1");
    rows = vial_db_select(C, T.a, &Post, .order_by = "author_id DESC, title", .limit = 3);
    cr_assert_str_eq(titles(rows), "b1,b2,a1");
    rows = vial_db_select(C, T.a, &Post, .order_by = "-created", .limit = 2, .offset = 1);
    cr_assert_str_eq(titles(rows), "a3,a2");
    rows = vial_db_select(C, T.a, &Post, .order_by = "id", .offset = 3);
    cr_assert_str_eq(titles(rows), "a3,b2", "offset without limit: %s", vial_db_errmsg(C));
    rows = vial_db_select(C, T.a, &Post, .filter_by = vial_pack_in(T.a, "{s:i, s:s}", "author_id", 2, "title", "b2"));
    cr_assert_str_eq(titles(rows), "b2");
    rows = vial_db_select(C, T.a, &Post, .where = "created >= ? AND title LIKE ?", .args = VIAL_ARGS("2024-01-03", "a%"),
                          .filter_by = vial_pack_in(T.a, "{s:i}", "author_id", 1), .order_by = "id");
    cr_assert_str_eq(titles(rows), "a2,a3", "%s", vial_db_errmsg(C));
    cr_assert_eq(vial_db_count(C, &Post, .where = NULL), 5);
    cr_assert_eq(vial_db_count(C, &Post, .where = "author_id = ?", .args = VIAL_ARGS(2)), 2);
    vial_value *first = vial_db_first(C, T.a, &Post, .order_by = "created");
    cr_assert_str_eq(vial_get_str(first, "title"), "a1");
    cr_assert_null(vial_db_first(C, T.a, &Post, .where = "title = ?", .args = VIAL_ARGS("none")));
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_NOT_FOUND);
    rows = vial_db_select(C, T.a, &Post, .filter_by = vial_pack_in(T.a, "{s:n}", "title"));
    cr_assert_eq(vial_len(rows), 0, "filter_by null is IS NULL");
}

Test(db_model, order_by_is_checked_never_pasted) {
    seed_posts();
    const char *attacks[] = {"title; DROP TABLE post", "(SELECT 1)", "title DESC, 1", "nope", "title DESCENDING",
                             "title desc asc", "", "title,", "\"title\""};
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0]; i++) {
        cr_assert_null(vial_db_select(C, T.a, &Post, .order_by = attacks[i][0] ? attacks[i] : " "), "%s", attacks[i]);
        cr_assert_eq(vial_db_errcode(C), VIAL_DB_INVALID, "%s: %s", attacks[i], vial_db_errmsg(C));
    }
    cr_assert_null(vial_db_select(C, T.a, &Post, .order_by = "nope"));
    cr_assert_not_null(strstr(vial_db_errmsg(C), "cannot order post by \"nope\""), "%s", vial_db_errmsg(C));
    cr_assert_eq(vial_db_count(C, &Post, .where = NULL), 5, "the table is intact");
    cr_assert_not_null(vial_db_select(C, T.a, &Post, .order_by = "  title  asc ,  id DESC "), "%s", vial_db_errmsg(C));
}

Test(db_model, update_and_delete_by_filter) {
    seed_posts();
    cr_assert_eq(vial_db_update_where(C, &Post, vial_pack_in(T.a, "{s:s}", "body", "edited"), .where = "author_id = ?",
                                      .args = VIAL_ARGS(1)),
                 3, "%s", vial_db_errmsg(C));
    cr_assert_eq(vial_db_count(C, &Post, .filter_by = vial_pack_in(T.a, "{s:s}", "body", "edited")), 3);
    cr_assert_eq(vial_db_update_where(C, &Post, vial_pack_in(T.a, "{s:i}", "title", 1), .where = NULL), -1);
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_INVALID);
    cr_assert_eq(vial_db_delete_where(C, &Post, .filter_by = vial_pack_in(T.a, "{s:i}", "author_id", 2)), 2);
    cr_assert_eq(vial_db_count(C, &Post, .where = NULL), 3);
    cr_assert_eq(vial_db_delete_where(C, &Post, .where = NULL), 3, "no filter: every row, as Model.query.delete()");
}

/* ---- pagination ---- */

static int64_t num(vial_value *p, const char *key) {
    vial_value *v = vial_object_get(p, key);
    cr_assert_not_null(v, "%s missing", key);
    return v->type == VIAL_NULL ? -999 : v->as.i;
}

Test(db_model, paginate_as_flask_sqlalchemy) {
    int64_t uid = add_user("pager");
    vial_db_begin(C);
    for (int i = 1; i <= 45; i++) {
        char t[16];
        snprintf(t, sizeof t, "p%02d", i);
        add_post(uid, t, NULL);
    }
    cr_assert_eq(vial_db_commit(C), 0);
    vial_value *p = vial_db_paginate(C, T.a, &Post, .order_by = "id", .page = 1, .per_page = 20);
    cr_assert_not_null(p, "%s", vial_db_errmsg(C));
    cr_assert_eq(vial_len(vial_object_get(p, "items")), 20);
    cr_assert_str_eq(vial_get_str(vial_array_get(vial_object_get(p, "items"), 0), "title"), "p01");
    cr_assert_eq(num(p, "page"), 1);
    cr_assert_eq(num(p, "per_page"), 20);
    cr_assert_eq(num(p, "total"), 45);
    cr_assert_eq(num(p, "pages"), 3);
    cr_assert(!vial_get_bool(p, "has_prev", true));
    cr_assert(vial_get_bool(p, "has_next", false));
    cr_assert_eq(num(p, "prev_num"), -999, "null");
    cr_assert_eq(num(p, "next_num"), 2);
    cr_assert_eq(num(p, "first"), 1);
    cr_assert_eq(num(p, "last"), 20);

    p = vial_db_paginate(C, T.a, &Post, .order_by = "id", .page = 3, .per_page = 20);
    cr_assert_eq(vial_len(vial_object_get(p, "items")), 5);
    cr_assert_str_eq(vial_get_str(vial_array_get(vial_object_get(p, "items"), 0), "title"), "p41");
    cr_assert(vial_get_bool(p, "has_prev", false));
    cr_assert(!vial_get_bool(p, "has_next", true));
    cr_assert_eq(num(p, "prev_num"), 2);
    cr_assert_eq(num(p, "next_num"), -999);
    cr_assert_eq(num(p, "first"), 41);
    cr_assert_eq(num(p, "last"), 45);

    /* error_out: past the end, page < 1, per_page < 1 are "404" */
    cr_assert_null(vial_db_paginate(C, T.a, &Post, .page = 4, .per_page = 20));
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_NOT_FOUND);
    cr_assert_null(vial_db_paginate(C, T.a, &Post, .page = -1));
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_NOT_FOUND);
    cr_assert_null(vial_db_paginate(C, T.a, &Post, .page = 1, .per_page = -5));
    cr_assert_eq(vial_db_errcode(C), VIAL_DB_NOT_FOUND);
    /* without error_out: clamped, or an empty page */
    p = vial_db_paginate(C, T.a, &Post, .page = 4, .per_page = 20, .no_error_out = true);
    cr_assert_not_null(p);
    cr_assert_eq(vial_len(vial_object_get(p, "items")), 0);
    cr_assert_eq(num(p, "first"), 0);
    cr_assert_eq(num(p, "last"), 0);
    p = vial_db_paginate(C, T.a, &Post, .page = -3, .per_page = -1, .no_error_out = true);
    cr_assert_eq(num(p, "page"), 1);
    cr_assert_eq(num(p, "per_page"), 20);
    /* defaults and the per_page cap */
    p = vial_db_paginate(C, T.a, &Post, .where = NULL);
    cr_assert_eq(num(p, "page"), 1);
    cr_assert_eq(num(p, "per_page"), 20);
    p = vial_db_paginate(C, T.a, &Post, .per_page = 1000);
    cr_assert_eq(num(p, "per_page"), 100);
    cr_assert_eq(vial_len(vial_object_get(p, "items")), 45);
    p = vial_db_paginate(C, T.a, &Post, .per_page = 7, .max_per_page = 5);
    cr_assert_eq(num(p, "per_page"), 5);
    cr_assert_eq(num(p, "pages"), 9);
    /* filters apply to items and total alike */
    p = vial_db_paginate(C, T.a, &Post, .where = "title LIKE ?", .args = VIAL_ARGS("p1%"), .per_page = 4, .page = 3);
    cr_assert_eq(num(p, "total"), 10);
    cr_assert_eq(num(p, "pages"), 3);
    cr_assert_eq(vial_len(vial_object_get(p, "items")), 2);
}

Test(db_model, paginate_with_nothing_and_iter_pages) {
    vial_value *p = vial_db_paginate(C, T.a, &Post, .page = 1);
    cr_assert_not_null(p, "page 1 of nothing is not an error: %s", vial_db_errmsg(C));
    cr_assert_eq(num(p, "total"), 0);
    cr_assert_eq(num(p, "pages"), 0);
    cr_assert(!vial_get_bool(p, "has_next", true));
    cr_assert_eq(vial_len(vial_db_iter_pages(T.a, p, 2, 2, 4, 2)), 0);
    /* Flask-SQLAlchemy's own example: 20 pages, on page 7 */
    vial_value *fake = vial_pack_in(T.a, "{s:i, s:i}", "page", 7, "pages", 20);
    char *json = vial_json_encode(T.a, vial_db_iter_pages(T.a, fake, 2, 2, 4, 2), 0, NULL);
    cr_assert_str_eq(json, "[1,2,null,5,6,7,8,9,10,11,null,19,20]");
    fake = vial_pack_in(T.a, "{s:i, s:i}", "page", 1, "pages", 3);
    cr_assert_str_eq(vial_json_encode(T.a, vial_db_iter_pages(T.a, fake, 2, 2, 4, 2), 0, NULL), "[1,2,3]");
    fake = vial_pack_in(T.a, "{s:i, s:i}", "page", 20, "pages", 20);
    cr_assert_str_eq(vial_json_encode(T.a, vial_db_iter_pages(T.a, fake, 2, 2, 4, 2), 0, NULL),
                     "[1,2,null,18,19,20]");
}

/* ---- relationships ---- */

static const char *shape(vial_value *users) {
    /* "alice:a3,a2,a1|bert:b2,b1|carl:" */
    vial_buf b;
    vial_buf_init(&b, T.a, 4096);
    for (size_t i = 0; i < vial_len(users); i++) {
        vial_value *u = vial_array_get(users, i);
        vial_buf_printf(&b, "%s%s:%s", i ? "|" : "", vial_get_str(u, "username"), titles(vial_object_get(u, "posts")));
    }
    return vial_buf_cstr(&b);
}

Test(db_model, one_to_many_by_second_query_and_by_join) {
    seed_posts();
    add_user("carl");
    vial_value *users = vial_db_select(C, T.a, &User, .order_by = "username", .load = "posts");
    cr_assert_not_null(users, "%s", vial_db_errmsg(C));
    cr_assert_str_eq(shape(users), "alice:a3,a2,a1|bert:b2,b1|carl:");
    vial_value *joined = vial_db_select(C, T.a, &User, .order_by = "username", .load = "posts", .load_join = true);
    cr_assert_not_null(joined, "%s", vial_db_errmsg(C));
    cr_assert_str_eq(shape(joined), "alice:a3,a2,a1|bert:b2,b1|carl:");
    cr_assert_str_eq(vial_json_encode(T.a, joined, 0, NULL), vial_json_encode(T.a, users, 0, NULL),
                     "both strategies give the same rows");
    /* the join keeps LIMIT counting parents, not joined rows */
    joined = vial_db_select(C, T.a, &User, .order_by = "username DESC", .limit = 2, .load = "posts", .load_join = true);
    cr_assert_str_eq(shape(joined), "carl:|bert:b2,b1");
    vial_value *page = vial_db_paginate(C, T.a, &User, .order_by = "username", .per_page = 1, .page = 1, .load = "posts",
                                        .load_join = true);
    cr_assert_not_null(page, "%s", vial_db_errmsg(C));
    cr_assert_str_eq(shape(vial_object_get(page, "items")), "alice:a3,a2,a1");
    cr_assert_eq(num(page, "total"), 3);
}

Test(db_model, many_to_one_and_loading_into_rows) {
    seed_posts();
    vial_value *posts = vial_db_select(C, T.a, &Post, .order_by = "id", .load = "author");
    cr_assert_not_null(posts, "%s", vial_db_errmsg(C));
    cr_assert_str_eq(vial_get_str(vial_object_get(vial_array_get(posts, 1), "author"), "username"), "bert");
    cr_assert_str_eq(vial_get_str(vial_object_get(vial_array_get(posts, 2), "author"), "username"), "alice");
    vial_value *joined = vial_db_select(C, T.a, &Post, .order_by = "id", .load = "author", .load_join = true);
    cr_assert_not_null(joined, "%s", vial_db_errmsg(C));
    cr_assert_str_eq(vial_json_encode(T.a, joined, 0, NULL), vial_json_encode(T.a, posts, 0, NULL));
    vial_value *u = vial_db_get(C, T.a, &User, 2);
    cr_assert_eq(vial_db_load(C, T.a, &User, u, "posts", false), 0, "%s", vial_db_errmsg(C));
    cr_assert_str_eq(titles(vial_object_get(u, "posts")), "b2,b1");
    cr_assert_eq(vial_db_load(C, T.a, &User, u, "comments", false), -1);
    cr_assert_not_null(strstr(vial_db_errmsg(C), "user has no relationship \"comments\" (it has: posts)"), "%s",
                       vial_db_errmsg(C));
}

Test(db_model, relationships_over_many_parents) {
    /* more parents than one IN (...) chunk holds */
    vial_db_begin(C);
    for (int i = 0; i < 1200; i++) {
        char name[16];
        snprintf(name, sizeof name, "u%04d", i);
        int64_t id = add_user(name);
        if (i % 100 == 0) add_post(id, name, NULL);
    }
    cr_assert_eq(vial_db_commit(C), 0);
    vial_value *users = vial_db_select(C, T.a, &User, .order_by = "id", .load = "posts");
    cr_assert_eq(vial_len(users), 1200);
    int with_posts = 0;
    for (size_t i = 0; i < 1200; i++) {
        vial_value *list = vial_object_get(vial_array_get(users, i), "posts");
        cr_assert_eq(list->type, VIAL_ARRAY);
        with_posts += vial_len(list) == 1;
    }
    cr_assert_eq(with_posts, 12);
}
