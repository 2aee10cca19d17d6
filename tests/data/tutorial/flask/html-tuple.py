# Lesson "html-tuple" - 响应html文本, the course's first (commented) form:
# a (body, status) tuple.
from flask import Flask, make_response, Response


app = Flask(__name__)


@app.route("/")
def index():
    """响应HTML文本，并设置响应状态码"""
    return "<h1>hello, flask</h1>", 400

if __name__ == '__main__':
    app.run(host="0.0.0.0", port=5000, debug=True)
