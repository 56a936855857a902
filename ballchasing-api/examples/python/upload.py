# Task 2 with python-ballchasing 0.5.4: upload one replay, private, into a group.
import os, sys
from ballchasing import BallchasingApi

api = BallchasingApi(os.environ["BALLCHASING_TOKEN"], base_url=os.environ.get("BALLCHASING_API_URL"))
up = api.upload_replay(sys.argv[1], visibility="private", group=sys.argv[2])
print(f"{up['id']} (duplicate: {'error' in up}) {up['location']}")
