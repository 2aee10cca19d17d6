# Lesson "config" - flask加载项目配置的二种方式.
# The course shows the first way commented out and uses the second; both run
# here, in that order, so the effective DEBUG is the course's (True).
from flask import Flask

app = Flask(__name__)

"""第一种：flask项目加载站点配置的方式"""
# app.config["配置项"] = 配置项值
app.config["DEBUG"] = False

"""第二种：flask项目加载站点配置的方式"""
config = {
    "DEBUG": True
}
app.config.update(config)


@app.route("/")
def index():
    return "<h1>hello flask</h1>"


if __name__ == '__main__':
    app.run(host="0.0.0.0", port=5000)
