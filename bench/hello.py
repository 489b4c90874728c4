"""The reference point: a bare Flask app, served by gunicorn exactly like the real one."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello"
