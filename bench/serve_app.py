"""The real app as bench/serve.py serves it: create_app() plus two things the product must not have.

- GET /bench/hello: a hello-world JSON answer, the baseline served by the same processes with
  the same settings and middleware (compression, locale, hooks) as the real endpoints.
- X-Worker-Pid on every answer, so the benchmark can tell which worker replied (to measure how
  long an edit takes to reach the other one, and each worker's memory).

Run by gunicorn from the repository root: gunicorn --pythonpath bench serve_app:app
"""

import os

from app import create_app

app = create_app()


@app.get("/bench/hello")
def hello():
    return {"hello": "world"}


@app.after_request
def worker_pid(response):
    response.headers["X-Worker-Pid"] = str(os.getpid())
    return response
