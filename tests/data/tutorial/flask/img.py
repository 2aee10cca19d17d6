# Lesson "img" - 响应指定媒体类型的文件, verbatim from the course.
import json
from flask import Flask, make_response, Response, jsonify


app = Flask(__name__)


@app.route("/img")
def img():
    """响应图片格式给客户端"""
    with open("avatar.png", "rb") as f:
        data = f.read()
    return data, 200, {"Content-Type": "image/png"}  # MIME类型

if __name__ == '__main__':
    app.run(host="0.0.0.0", port=5000, debug=True)
