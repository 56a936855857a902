# Task 8 with python-ballchasing 0.5.4: set a replay's title.
import os, sys
from ballchasing import BallchasingApi

api = BallchasingApi(os.environ["BALLCHASING_TOKEN"], base_url=os.environ.get("BALLCHASING_API_URL"))
api.patch_replay(sys.argv[1], title=sys.argv[2])
print("title set")
