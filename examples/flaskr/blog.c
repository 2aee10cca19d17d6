/* blog.c - flaskr/blog.py: the posts, newest first; create, update, delete.
 *
 * Every post route checks, in this order: the method (routing: 405), the
 * login (a redirect to the login page), that the post exists (404 "Post id N
 * doesn't exist."), that the current user wrote it (403), and only then reads
 * the form. */
#include "flaskr.h"

/* Show all the posts, most recent first. */
static void blog_index(vial_req *rq, vial_res *rs) {
    vial_value *posts = vial_query(rq, "SELECT p.id, title, body, created, author_id, username"
                                       " FROM post p JOIN user u ON p.author_id = u.id"
                                       " ORDER BY created DESC");
    vial_render(rs, "blog/index.html", vial_pack(rq, "{s:o}", "posts", posts));
}

/* A post and its author by id: 404 when there is none, 403 when check_author and it is not the current user's. */
static vial_value *get_post(vial_req *rq, int64_t id, bool check_author) {
    vial_value *post = vial_query_one(rq, "SELECT p.id, title, body, created, author_id, username"
                                          " FROM post p JOIN user u ON p.author_id = u.id"
                                          " WHERE p.id = ?", id);
    if (!post) vial_abort_msg(rq, 404, "Post id %lld doesn't exist.", (long long)id);
    if (check_author && vial_get_int(post, "author_id", -1) != vial_get_int(vial_g_get(rq, "user"), "id", -2))
        vial_abort(rq, 403);
    return post;
}

/* Create a new post for the current user. */
static void blog_create(vial_req *rq, vial_res *rs) {
    if (flaskr_login_required(rq, rs)) return;
    if (vial_is_post(rq)) {
        const char *title = flaskr_form_field(rq, "title");
        const char *body = flaskr_form_field(rq, "body");
        if (!*title) {
            vial_flash(rq, "Title is required.", NULL);
        } else {
            vial_exec(rq, "INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)", title, body,
                      vial_get_int(vial_g_get(rq, "user"), "id", 0));
            vial_redirect(rs, vial_url_for(rq, "blog.index", NULL), 302);
            return;
        }
    }
    vial_render(rs, "blog/create.html", NULL);
}

/* Update a post if the current user is the author. */
static void blog_update(vial_req *rq, vial_res *rs) {
    if (flaskr_login_required(rq, rs)) return;
    int64_t id = vial_param_int(rq, "id");
    vial_value *post = get_post(rq, id, true);
    if (vial_is_post(rq)) {
        const char *title = flaskr_form_field(rq, "title");
        const char *body = flaskr_form_field(rq, "body");
        if (!*title) {
            vial_flash(rq, "Title is required.", NULL);
        } else {
            vial_exec(rq, "UPDATE post SET title = ?, body = ? WHERE id = ?", title, body, id);
            vial_redirect(rs, vial_url_for(rq, "blog.index", NULL), 302);
            return;
        }
    }
    vial_render(rs, "blog/update.html", vial_pack(rq, "{s:o}", "post", post));
}

/* Delete a post: it must exist and be the current user's. */
static void blog_delete(vial_req *rq, vial_res *rs) {
    if (flaskr_login_required(rq, rs)) return;
    int64_t id = vial_param_int(rq, "id");
    get_post(rq, id, true);
    vial_exec(rq, "DELETE FROM post WHERE id = ?", id);
    vial_redirect(rs, vial_url_for(rq, "blog.index", NULL), 302);
}

void flaskr_blog_init_app(vial_app *app) {
    vial_bp *bp = vial_blueprint(app, "blog", NULL);
    vial_bp_add_url_rule(bp, "/", "index", VIAL_GET, blog_index);
    vial_bp_add_url_rule(bp, "/create", "create", VIAL_GET | VIAL_POST, blog_create);
    vial_bp_add_url_rule(bp, "/<int:id>/update", "update", VIAL_GET | VIAL_POST, blog_update);
    vial_bp_add_url_rule(bp, "/<int:id>/delete", "delete", VIAL_POST, blog_delete);
}
