# Lesson "jsonapi" - 返回JSON数据, the course's active form: jsonify.
import json
from flask import Flask, make_response, Response, jsonify


app = Flask(__name__)

@app.route("/jsonapi")
def jsonapi():
    """响应json数据[jsonify]"""
    data = {"name": "xiaoming", "age": 16}
    response = jsonify(data)
    print(response)
    return response

if __name__ == '__main__':
    app.run(host="0.0.0.0", port=5000, debug=True)
