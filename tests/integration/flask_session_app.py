"""The real Flask (Debian's 2.2.2, with Flask-Login 0.6 and Flask-WTF 1.1) as
the other side of tests/integration/test_flask_interop.py: the same routes as
session_app, the same SECRET_KEY, served by Werkzeug's server on
    /usr/bin/python3 flask_session_app.py PORT
"""
import datetime as dt
import sys
import uuid

from flask import Flask, flash, get_flashed_messages, jsonify, redirect, request, session
from flask.json.tag import TaggedJSONSerializer
from flask_login import LoginManager, UserMixin, current_user, login_required, login_user, logout_user
from flask_wtf.csrf import CSRFProtect, generate_csrf
from markupsafe import Markup
from werkzeug.security import check_password_hash, generate_password_hash

from session_harness import SECRET_KEY

app = Flask(__name__)
app.config["SECRET_KEY"] = SECRET_KEY
csrf = CSRFProtect(app)
login_manager = LoginManager(app)
login_manager.login_view = "login"


class User(UserMixin):
    def __init__(self, id):
        self.id = id


@login_manager.user_loader
def load_user(user_id):
    return User(user_id) if user_id == "root" else None


@app.route("/set")
def set_view():
    session[request.args["k"]] = request.args["v"]
    return "set"


@app.route("/set_types")
def set_types():
    session["tuple"] = (1, "two")
    session["bytes"] = b"\x00\xffraw"
    session["markup"] = Markup("<b>safe</b>")
    session["when"] = dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    session["uuid"] = uuid.UUID("12345678-1234-5678-1234-567812345678")
    session["nested"] = {"list": [1, 2.5, True, None], "text": "\u4e2d\u6587"}
    return "set"


@app.route("/dump")
def dump():
    return app.response_class(TaggedJSONSerializer().dumps(dict(session)), mimetype="application/json")


@app.route("/flash")
def flash_view():
    flash(request.args["m"], request.args.get("c", "message"))
    return "flashed"


@app.route("/flashes")
def flashes():
    return jsonify(get_flashed_messages(with_categories=True))


@app.route("/hash")
def hash_view():
    return generate_password_hash(request.args["pw"], "pbkdf2:sha256:260000")


@app.route("/check", methods=["POST"])
@csrf.exempt
def check():
    return "1" if check_password_hash(request.form["hash"], request.form["pw"]) else "0"


@app.route("/csrf")
def csrf_token():
    return generate_csrf()


@app.route("/submit", methods=["POST"])
def submit():
    return "submitted"


@app.route("/login", methods=["POST"])
@csrf.exempt
def login():
    login_user(User(request.form["username"]), remember="remember" in request.form)
    return "logged in"


@app.route("/user")
@login_required
def user():
    return "user " + current_user.id


@app.route("/whoami")
def whoami():
    return current_user.id if current_user.is_authenticated else "anonymous"


@app.route("/logout", methods=["POST"])
@csrf.exempt
def logout():
    logout_user()
    return redirect("/login")


if __name__ == "__main__":
    import logging
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    print("flask ready", flush=True)
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
