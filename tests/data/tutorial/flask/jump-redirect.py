# Lesson "jump-redirect" - 重定向到站点地址, the course's commented form:
# redirect(url, 302).
from flask import Flask, request, redirect, url_for, Response


app = Flask(__name__)

@app.route("/jump")
def jump():
    """跳转页面到站外"""
    response = redirect("https://www.qq.com", 302)
    print(response)
    return response


if __name__ == '__main__':
    app.run(host="0.0.0.0", port=5000, debug=True)
