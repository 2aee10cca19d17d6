# Lesson "jsonapi-dumps" - 返回JSON数据, the course's first raw form:
# json.dumps(data) returned with a Content-Type header.
import json
from flask import Flask, make_response, Response, jsonify


app = Flask(__name__)

@app.route("/jsonapi")
def jsonapi():
    """响应json数据[原生写法]"""
    data = {"name": "xiaoming", "age": 16}
    return json.dumps(data), 200, {"Content-Type": "application/json"}

if __name__ == '__main__':
    app.run(host="0.0.0.0", port=5000, debug=True)
