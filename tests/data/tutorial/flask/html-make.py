# Lesson "html-make" - 响应html文本, the course's second (commented) form:
# make_response(body, status).
from flask import Flask, make_response, Response


app = Flask(__name__)


@app.route("/")
def index():
    """通过make_response返回Response对象"""
    response = make_response("<h1>hello, flask</h1>", 201)
    print(response)
    return response

if __name__ == '__main__':
    app.run(host="0.0.0.0", port=5000, debug=True)
