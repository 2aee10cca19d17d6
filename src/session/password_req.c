/* password_req.c - password hashing from a view: the request's arena, Werkzeug's formats.
 *
 * Thin wrappers over password.c for the common case: hash with the default
 * method into memory that lives as long as the request, check a stored hash.
 * A Flask 2.2 app sharing the user table cannot read scrypt hashes: such an
 * app generates with vial_generate_password_hash(a, pw, "pbkdf2:sha256:600000"). */
#include "session/session_req.h"

char *vial_generate_password(vial_req *rq, const char *password) {
    char *hash = vial_generate_password_hash(vial_req_arena(rq), password ? password : "", NULL);
    if (!hash) vial_abort_msg(rq, 500, "the password could not be hashed (see the log)");
    return hash;
}

bool vial_check_password(const char *pwhash, const char *password) {
    if (!pwhash || !password) return false;
    return vial_check_password_hash(pwhash, password);
}
