/* Migrations on SQLite (default) or PostgreSQL (VIAL_TEST_DATABASE_URL): the
 * `db` commands (init, revision, upgrade, downgrade, current, history,
 * migrate), transactional steps, malformed files, autogenerate for added
 * tables, columns and indexes, and several processes upgrading at once. */
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "db/db.h"
#include "db_testutil.h"

static char root[256], dir[300];
static char *out_text, *err_text;
static size_t out_len, err_len;

static void setup(void) {
    test_db_setup();
    snprintf(root, sizeof root, "/tmp/vial-mig-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    snprintf(dir, sizeof dir, "%s/migrations", root);
}

static void teardown(void) {
    free(out_text);
    free(err_text);
    out_text = err_text = NULL;
    test_db_rmtree(root);
    test_db_teardown();
}

TestSuite(db_migrate, .init = setup, .fini = teardown, .timeout = 120);

/* Runs `db <args...>` with these models; output captured in out_text / err_text. */
static int db_cmd(const vial_model *const *models, const char *args) {
    char buf[512];
    snprintf(buf, sizeof buf, "%s", args);
    char *argv[16];
    int argc = 0;
    for (char *tok = strtok(buf, " "); tok && argc < 15; tok = strtok(NULL, " ")) {
        for (char *p = tok; *p; p++)
            if (*p == '~') *p = ' '; /* ~ stands for a space inside one argument */
        argv[argc++] = tok;
    }
    argv[argc] = NULL;
    free(out_text);
    free(err_text);
    FILE *out = open_memstream(&out_text, &out_len);
    FILE *err = open_memstream(&err_text, &err_len);
    int rc = vial_db_command(T.db, models, dir, argc, argv, out, err);
    fclose(out);
    fclose(err);
    return rc;
}

static void write_migration(const char *name, const char *text) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    static char buf[16384];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

static bool table_works(const char *table) {
    vial_db_conn *c = vial_db_acquire(T.db);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", table);
    bool ok = vial_db_scalar(c, T.a, sql) != NULL;
    vial_db_release(c);
    return ok;
}

static int64_t applied_count(void) {
    vial_db_conn *c = vial_db_acquire(T.db);
    vial_value *v = vial_db_scalar(c, T.a, "SELECT count(*) FROM vial_migrations");
    int64_t n = v ? v->as.i : -1;
    vial_db_release(c);
    return n;
}

static void three_migrations(void) {
    cr_assert_eq(db_cmd(NULL, "init"), 0, "%s", err_text);
    write_migration("0001_create_user.sql", "-- 0001 create user\n-- up\n"
                                            "CREATE TABLE \"user\" (id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n"
                                            "-- down\nDROP TABLE \"user\";\n");
    write_migration("0002_add_post.sql", "-- up\nCREATE TABLE post (id INTEGER PRIMARY KEY, user_id INTEGER "
                                         "REFERENCES \"user\" (id), title TEXT);\n"
                                         "INSERT INTO post (id, title) VALUES (1, 'it''s; a -- title');\n"
                                         "-- down\nDROP TABLE post;\n");
    write_migration("0003_add_index.sql", "-- up\nCREATE INDEX ix_post_title ON post (title);\n"
                                          "-- down\nDROP INDEX ix_post_title;\n");
}

Test(db_migrate, init_and_revision) {
    cr_assert_eq(db_cmd(NULL, "revision -m nothing"), 1, "no folder yet");
    cr_assert_not_null(strstr(err_text, "db init"), "%s", err_text);
    cr_assert_eq(db_cmd(NULL, "init"), 0, "%s", err_text);
    cr_assert_not_null(strstr(out_text, "Creating directory"), "%s", out_text);
    struct stat st;
    cr_assert_eq(stat(dir, &st), 0);
    cr_assert(S_ISDIR(st.st_mode));
    cr_assert_eq(db_cmd(NULL, "init"), 1);
    cr_assert_not_null(strstr(err_text, "already exists and is not empty"), "%s", err_text);
    cr_assert_eq(db_cmd(NULL, "revision -m Create~user~table!"), 0, "%s", err_text);
    char path[512];
    snprintf(path, sizeof path, "%s/0001_create_user_table.sql", dir);
    char *text = read_text(path);
    cr_assert_not_null(text, "%s", out_text);
    cr_assert_not_null(strstr(text, "-- 0001 Create user table!\n"), "%s", text);
    cr_assert_not_null(strstr(text, "\n-- up\n"), "%s", text);
    cr_assert_not_null(strstr(text, "\n-- down\n"), "%s", text);
    cr_assert_eq(db_cmd(NULL, "revision --message=second"), 0, "%s", err_text);
    snprintf(path, sizeof path, "%s/0002_second.sql", dir);
    cr_assert_not_null(read_text(path));
    cr_assert_eq(db_cmd(NULL, "revision"), 2, "a revision needs a message");
    cr_assert_eq(db_cmd(NULL, "frobnicate"), 2);
    cr_assert_not_null(strstr(err_text, "unknown command"), "%s", err_text);
    /* empty revisions apply and undo cleanly */
    cr_assert_eq(db_cmd(NULL, "upgrade"), 0, "%s", err_text);
    cr_assert_eq(applied_count(), 2);
    cr_assert_eq(db_cmd(NULL, "downgrade base"), 0, "%s", err_text);
    cr_assert_eq(applied_count(), 0);
}

Test(db_migrate, upgrade_downgrade_current_history) {
    three_migrations();
    cr_assert_eq(db_cmd(NULL, "current"), 0, "%s", err_text);
    cr_assert_str_eq(out_text, "<base> (no migration applied)\n");
    cr_assert_eq(db_cmd(NULL, "upgrade"), 0, "%s", err_text);
    cr_assert_str_eq(out_text, "Running upgrade <base> -> 0001, create user\n"
                               "Running upgrade 0001 -> 0002, add post\n"
                               "Running upgrade 0002 -> 0003, add index\n");
    cr_assert(table_works("user") && table_works("post"));
    cr_assert_eq(applied_count(), 3);
    cr_assert_eq(db_cmd(NULL, "current"), 0);
    cr_assert_str_eq(out_text, "0003 (head), add index\n");
    cr_assert_eq(db_cmd(NULL, "history"), 0);
    cr_assert_str_eq(out_text, "0002 -> 0003 (head) (current), add index\n"
                               "0001 -> 0002, add post\n"
                               "<base> -> 0001, create user\n");
    cr_assert_eq(db_cmd(NULL, "upgrade"), 0);
    cr_assert_str_eq(out_text, "Already up to date (0003).\n");

    cr_assert_eq(db_cmd(NULL, "downgrade"), 0, "%s / %s", out_text, err_text);
    cr_assert_str_eq(out_text, "Running downgrade 0003 -> 0002, add index\n");
    cr_assert_eq(db_cmd(NULL, "current"), 0);
    cr_assert_str_eq(out_text, "0002, add post\n");
    cr_assert_eq(db_cmd(NULL, "history"), 0);
    cr_assert_not_null(strstr(out_text, "0002 -> 0003 (head) (pending), add index"), "%s", out_text);
    cr_assert_eq(db_cmd(NULL, "downgrade base"), 0, "%s", err_text);
    cr_assert_str_eq(out_text, "Running downgrade 0002 -> 0001, add post\nRunning downgrade 0001 -> <base>, create user\n");
    cr_assert(!table_works("post") && !table_works("user"));
    cr_assert_eq(db_cmd(NULL, "downgrade"), 0);
    cr_assert_str_eq(out_text, "Nothing to downgrade.\n");

    cr_assert_eq(db_cmd(NULL, "upgrade 2"), 0, "%s", err_text);
    cr_assert_eq(applied_count(), 2);
    cr_assert_eq(db_cmd(NULL, "upgrade +1"), 0, "%s", err_text);
    cr_assert_eq(applied_count(), 3);
    cr_assert_eq(db_cmd(NULL, "downgrade -2"), 0, "%s", err_text);
    cr_assert_eq(applied_count(), 1);
    cr_assert_eq(db_cmd(NULL, "downgrade 0001"), 0, "%s", err_text);
    cr_assert_str_eq(out_text, "Nothing to downgrade.\n");
    cr_assert_eq(db_cmd(NULL, "upgrade 9"), 1);
    cr_assert_not_null(strstr(err_text, "no migration with version 9"), "%s", err_text);
    cr_assert_eq(db_cmd(NULL, "upgrade +5"), 1);
    cr_assert_not_null(strstr(err_text, "not that many"), "%s", err_text);
    cr_assert_eq(db_cmd(NULL, "upgrade -1"), 1);
    cr_assert_eq(db_cmd(NULL, "upgrade sideways"), 1);
    cr_assert_not_null(strstr(err_text, "bad target"), "%s", err_text);
    cr_assert_eq(applied_count(), 1, "no failed command changed anything");
    /* the C entry point */
    FILE *devnull = fopen("/dev/null", "w");
    cr_assert_eq(vial_db_upgrade(T.db, dir, NULL, devnull, devnull), 0);
    fclose(devnull);
    cr_assert_eq(applied_count(), 3);
}

Test(db_migrate, a_failing_migration_leaves_no_trace) {
    three_migrations();
    write_migration("0004_broken.sql", "-- up\nCREATE TABLE half (id INTEGER);\nINSERT INTO post (title) VALUES ('x');\n"
                                       "CREATE TABLE oops (;\n-- down\nDROP TABLE half;\n");
    cr_assert_eq(db_cmd(NULL, "upgrade"), 1);
    cr_assert_not_null(strstr(err_text, "0004_broken.sql failed"), "%s", err_text);
    cr_assert_eq(applied_count(), 3, "0001-0003 stay applied");
    cr_assert(!table_works("half"), "0004's first statement was rolled back");
    vial_db_conn *c = vial_db_acquire(T.db);
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM post")->as.i, 1);
    vial_db_release(c);
    cr_assert_eq(db_cmd(NULL, "current"), 0);
    cr_assert_str_eq(out_text, "0003, add index\n");
}

Test(db_migrate, malformed_files_are_reported) {
    cr_assert_eq(db_cmd(NULL, "init"), 0);
    write_migration("0001_no_sections.sql", "CREATE TABLE x (id INTEGER);\n");
    cr_assert_eq(db_cmd(NULL, "upgrade"), 1);
    cr_assert_not_null(strstr(err_text, "SQL before the '-- up' line"), "%s", err_text);
    write_migration("0001_no_sections.sql", "-- just a comment\n");
    cr_assert_eq(db_cmd(NULL, "upgrade"), 1);
    cr_assert_not_null(strstr(err_text, "no '-- up' line"), "%s", err_text);
    write_migration("0001_no_sections.sql", "-- up\nSELECT 1;\n-- down\n-- up\n");
    cr_assert_eq(db_cmd(NULL, "upgrade"), 1);
    cr_assert_not_null(strstr(err_text, "a second '-- up' line"), "%s", err_text);
    write_migration("0001_no_sections.sql", "-- up\nSELECT 1;\n-- down\n");
    write_migration("01_same_version.sql", "-- up\n-- down\n");
    cr_assert_eq(db_cmd(NULL, "upgrade"), 1);
    cr_assert_not_null(strstr(err_text, "have the same version 1"), "%s", err_text);
    char path[512];
    snprintf(path, sizeof path, "%s/01_same_version.sql", dir);
    unlink(path);
    write_migration("notes.sql", "-- up\n");
    cr_assert_eq(db_cmd(NULL, "history"), 1);
    cr_assert_not_null(strstr(err_text, "NNNN_description.sql"), "%s", err_text);
    snprintf(path, sizeof path, "%s/notes.sql", dir);
    unlink(path);
    cr_assert_eq(db_cmd(NULL, "upgrade"), 0, "%s", err_text);
    /* a recorded version whose file disappeared */
    snprintf(path, sizeof path, "%s/0001_no_sections.sql", dir);
    unlink(path);
    cr_assert_eq(db_cmd(NULL, "history"), 0);
    cr_assert_not_null(strstr(out_text, "0001 (applied, file missing)"), "%s", out_text);
    cr_assert_eq(db_cmd(NULL, "downgrade"), 1);
    cr_assert_not_null(strstr(err_text, "its file is missing"), "%s", err_text);
}

/* ---- autogenerate ---- */

static const vial_model UserV1 = {
    .table = "user",
    .columns = (const vial_column[]){{"id", VIAL_INTEGER, .primary_key = true},
                                     {"username", VIAL_TEXT, .not_null = true, .unique = true},
                                     {0}},
};
static const vial_model Post = {
    .table = "post",
    .columns = (const vial_column[]){{"id", VIAL_INTEGER, .primary_key = true},
                                     {"author_id", VIAL_INTEGER, .not_null = true, .references = "user.id"},
                                     {"title", VIAL_TEXT, .not_null = true, .index = true},
                                     {0}},
};
static const vial_model UserV2 = {
    .table = "user",
    .columns = (const vial_column[]){{"id", VIAL_INTEGER, .primary_key = true},
                                     {"username", VIAL_TEXT, .not_null = true, .unique = true},
                                     {"email", VIAL_TEXT, .index = true},
                                     {"karma", VIAL_INTEGER, .not_null = true, .default_sql = "0"},
                                     {0}},
    .indexes = (const vial_index[]){{"ix_user_karma_email", "karma, email", .unique = false}, {0}},
};
static const vial_model Tag = {
    .table = "tag",
    .columns = (const vial_column[]){{"id", VIAL_INTEGER, .primary_key = true},
                                     {"post_id", VIAL_INTEGER, .references = "post.id", .on_delete = "CASCADE"},
                                     {"name", VIAL_TEXT, .unique = true},
                                     {0}},
};

static const vial_model *const v1[] = {&Post, &UserV1, NULL};
static const vial_model *const v2[] = {&Tag, &Post, &UserV2, NULL};

static char *migration_text(int version) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "%04d_", version);
    DIR *d = opendir(dir);
    struct dirent *e;
    char *found = NULL;
    while ((e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, pattern, 5) == 0) {
            char path[600];
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            found = read_text(path);
        }
    }
    closedir(d);
    return found;
}

Test(db_migrate, autogenerate_added_tables_columns_and_indexes) {
    cr_assert_eq(db_cmd(v1, "init"), 0);
    cr_assert_eq(db_cmd(v1, "migrate -m initial~schema"), 0, "%s", err_text);
    cr_assert_not_null(strstr(out_text, "Detected added table 'user'\nDetected added table 'post'\n"), "%s", out_text);
    char *text = migration_text(1);
    cr_assert_not_null(text);
    char *up = strstr(text, "-- up\n"), *down = strstr(text, "-- down\n");
    cr_assert(up && down && up < down, "%s", text);
    char *user_at = strstr(up, "CREATE TABLE \"user\""), *post_at = strstr(up, "CREATE TABLE \"post\"");
    cr_assert(user_at && post_at && user_at < post_at && post_at < down, "user before post:\n%s", text);
    cr_assert_not_null(strstr(up, "CREATE INDEX \"ix_post_title\" ON \"post\" (\"title\");"), "%s", text);
    char *drop_post = strstr(down, "DROP TABLE \"post\";"), *drop_user = strstr(down, "DROP TABLE \"user\";");
    cr_assert(drop_post && drop_user && drop_post < drop_user, "post dropped before user:\n%s", text);

    cr_assert_eq(db_cmd(v1, "migrate -m again"), 1);
    cr_assert_not_null(strstr(err_text, "not up to date"), "%s", err_text);
    cr_assert_eq(db_cmd(v1, "upgrade"), 0, "%s", err_text);
    cr_assert(table_works("user") && table_works("post"));
    cr_assert_eq(db_cmd(v1, "migrate -m nothing"), 0, "%s", err_text);
    cr_assert_not_null(strstr(out_text, "No changes in schema detected."), "%s", out_text);
    cr_assert_null(migration_text(2), "no file for no changes");

    /* v2: two columns, two indexes and a table more */
    cr_assert_eq(db_cmd(v2, "migrate -m v2"), 0, "%s", err_text);
    cr_assert_not_null(strstr(out_text, "Detected added column 'user.email'"), "%s", out_text);
    cr_assert_not_null(strstr(out_text, "Detected added column 'user.karma'"), "%s", out_text);
    cr_assert_not_null(strstr(out_text, "Detected added index 'ix_user_email' on user(email)"), "%s", out_text);
    cr_assert_not_null(strstr(out_text, "Detected added index 'ix_user_karma_email' on user(karma, email)"), "%s",
                       out_text);
    cr_assert_not_null(strstr(out_text, "Detected added table 'tag'"), "%s", out_text);
    text = migration_text(2);
    cr_assert_not_null(text);
    cr_assert_not_null(strstr(text, "ALTER TABLE \"user\" ADD COLUMN \"email\" TEXT;"), "%s", text);
    cr_assert_not_null(strstr(text, "ALTER TABLE \"user\" ADD COLUMN \"karma\""), "%s", text);
    cr_assert_not_null(strstr(text, "DROP INDEX \"ix_user_email\";"), "%s", text);
    cr_assert_not_null(strstr(text, "ALTER TABLE \"user\" DROP COLUMN \"email\";"), "%s", text);
    cr_assert_lt(strstr(text, "DROP INDEX \"ix_user_karma_email\";"), strstr(text, "DROP COLUMN \"email\""),
                 "indexes go before their columns:\n%s", text);
    cr_assert_eq(db_cmd(v2, "upgrade"), 0, "%s", err_text);

    vial_db_conn *c = vial_db_acquire(T.db);
    int64_t uid = vial_db_insert(c, &UserV2, vial_pack_in(T.a, "{s:s, s:s}", "username", "u", "email", "u@x"));
    cr_assert_gt(uid, 0, "%s", vial_db_errmsg(c));
    cr_assert_eq(vial_db_get(c, T.a, &UserV2, uid)->as.obj.len, 4);
    cr_assert_eq(vial_get_int(vial_db_get(c, T.a, &UserV2, uid), "karma", -1), 0, "the default filled old and new rows");
    vial_db_release(c);
    cr_assert_eq(db_cmd(v2, "migrate"), 0, "%s", err_text);
    cr_assert_not_null(strstr(out_text, "No changes in schema detected."), "%s", out_text);

    /* and back: the v2 migration's down section undoes it */
    cr_assert_eq(db_cmd(v2, "downgrade"), 0, "%s", err_text);
    cr_assert(!table_works("tag"));
    c = vial_db_acquire(T.db);
    cr_assert_null(vial_db_query(c, T.a, "SELECT email FROM \"user\""), "the column is gone");
    cr_assert_not_null(vial_db_query(c, T.a, "SELECT username FROM \"user\""), "%s", vial_db_errmsg(c));
    vial_db_release(c);
    cr_assert_eq(db_cmd(v2, "current"), 0);
    cr_assert_str_eq(out_text, "0001, initial schema\n");
    cr_assert_eq(db_cmd(v2, "migrate"), 1, "0002 is written but not applied");
    cr_assert_not_null(strstr(err_text, "0002_v2.sql is not applied"), "%s", err_text);
    cr_assert_eq(db_cmd(v2, "upgrade"), 0, "%s", err_text);
    cr_assert(table_works("tag"));
}

Test(db_migrate, autogenerate_reports_what_it_leaves_alone) {
    cr_assert_eq(db_cmd(v1, "init"), 0);
    vial_db_conn *c = vial_db_acquire(T.db);
    cr_assert_eq(vial_db_script(c, "CREATE TABLE legacy (id INTEGER); CREATE TABLE \"user\" (id INTEGER PRIMARY KEY, "
                                   "username TEXT NOT NULL UNIQUE, nickname TEXT)"),
                 0, "%s", vial_db_errmsg(c));
    vial_db_release(c);
    cr_assert_eq(db_cmd(v1, "migrate -m rest"), 0, "%s", err_text);
    cr_assert_not_null(strstr(out_text, "Table 'legacy' is in the database but not in the models (left alone)"), "%s",
                       out_text);
    cr_assert_not_null(strstr(out_text, "Column 'user.nickname' is in the database but not in the model"), "%s",
                       out_text);
    char *text = migration_text(1);
    cr_assert_null(strstr(text, "legacy"), "%s", text);
    cr_assert_null(strstr(text, "CREATE TABLE \"user\""), "%s", text);
    cr_assert_not_null(strstr(text, "CREATE TABLE \"post\""), "%s", text);
}

Test(db_migrate, several_processes_upgrading_at_once_apply_each_version_once) {
    three_migrations();
    vial_db_close(T.db);
    T.db = NULL;
    enum { N = 4 };
    pid_t pids[N];
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        cr_assert_neq(pids[i], -1);
        if (pids[i] == 0) {
            char err[256];
            vial_db *db = vial_db_open(T.url, NULL, err, sizeof err);
            FILE *devnull = fopen("/dev/null", "w");
            int rc = db ? vial_db_upgrade(db, dir, NULL, devnull, stderr) : -1;
            vial_db_close(db);
            _exit(rc == 0 ? 0 : 1);
        }
    }
    for (int i = 0; i < N; i++) {
        int status;
        cr_assert_eq(waitpid(pids[i], &status, 0), pids[i]);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "upgrader %d failed", i);
    }
    T.db = test_db_open_opts(NULL);
    cr_assert_eq(applied_count(), 3);
    vial_db_conn *c = vial_db_acquire(T.db);
    cr_assert_eq(vial_db_scalar(c, T.a, "SELECT count(*) FROM post")->as.i, 1, "0002's insert ran once");
    vial_db_release(c);
}
