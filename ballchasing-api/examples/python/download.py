# Task 5 with python-ballchasing 0.5.4: download one replay file.
import os, sys
from ballchasing import BallchasingApi

api = BallchasingApi(os.environ["BALLCHASING_TOKEN"], base_url=os.environ.get("BALLCHASING_API_URL"))
path = api.download_replay(sys.argv[1], sys.argv[2])
print(f"{path.stat().st_size} bytes in {path}")
