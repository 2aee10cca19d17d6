# Lesson "status-666" - 自定义状态码和响应头: the course names status 666 as
# the example of a code outside HTTP ("例如：status code: 666") without a
# listing; this is its listing with 666 in place of 201.
from flask import Flask, request, redirect, url_for, Response


app = Flask(__name__)

@app.route("/")
def index():
    """自定义状态码"""
    return "hello, flask", 666, {"Company": "flask.edu"}


if __name__ == '__main__':
    app.run(host="0.0.0.0", port=5000, debug=True)
