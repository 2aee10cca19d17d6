-- flaskr's tables, as the Flask tutorial defines them. `./flaskr init-db`
-- runs this file: it drops what is there and starts empty. (post goes first:
-- vial's SQLite connections enforce foreign keys, and post's rows point at user.)

DROP TABLE IF EXISTS post;
DROP TABLE IF EXISTS user;

CREATE TABLE user (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  username TEXT UNIQUE NOT NULL,
  password TEXT NOT NULL                      -- a Werkzeug hash, method$salt$hash
);

CREATE TABLE post (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  author_id INTEGER NOT NULL,
  created TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP,   -- UTC
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  FOREIGN KEY (author_id) REFERENCES user (id)
);
