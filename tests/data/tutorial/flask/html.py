# Lesson "html" - 响应html文本, the course's active form: Response(..., 201).
from flask import Flask, make_response, Response


app = Flask(__name__)


@app.route("/")
def index():
    """通过Response返回Response对象"""
    response = Response("<h1>hello, flask</h1>", 201)
    return response

if __name__ == '__main__':
    app.run(host="0.0.0.0", port=5000, debug=True)
