# Task 3 with python-ballchasing 0.5.4: a filtered search over every page.
import os, sys
from ballchasing import BallchasingApi

api = BallchasingApi(os.environ["BALLCHASING_TOKEN"], base_url=os.environ.get("BALLCHASING_API_URL"))
replays = api.get_replays(player_name=sys.argv[1], playlist="ranked-doubles", match_result="win",
                          created_after="2024-01-01T00:00:00Z", count=10**9)
for r in replays:
    print(r["id"], r.get("date", ""), r.get("replay_title", ""))
