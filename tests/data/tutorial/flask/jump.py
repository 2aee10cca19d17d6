# Lesson "jump" - 重定向到站点地址, the course's active form (底层原理):
# a bare Response with a Location header.
from flask import Flask, request, redirect, url_for, Response


app = Flask(__name__)

@app.route("/jump")
def jump():
    """跳转页面到站外"""
    # 底层原理
    response = Response("", 302, {"Location": "https://www.163.com"})
    return response


if __name__ == '__main__':
    app.run(host="0.0.0.0", port=5000, debug=True)
