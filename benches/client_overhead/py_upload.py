"""The Python side of the client overhead benchmark: python-ballchasing 0.5.4 uploading one
file N times. `py_upload.py URL FILE N`"""
import sys

import ballchasing

url, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
api = ballchasing.Api("bench-token-not-real", base_url=url, do_initial_ping=False)
for _ in range(n):
    api.upload_replay(path, visibility="private")
