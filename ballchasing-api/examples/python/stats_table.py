# Task 4 with python-ballchasing 0.5.4: one replay's per-player stats as a table.
import os, sys
from ballchasing import BallchasingApi

api = BallchasingApi(os.environ["BALLCHASING_TOKEN"], base_url=os.environ.get("BALLCHASING_API_URL"))
replay = api.get_replay(sys.argv[1], typed=True)
print("team   player           goals saves  bpm behind%")
for team in replay.teams():
    for p in team.players:
        s = p.stats
        print(f"{team.color:<6} {p.name:<16} {s.core.goals:>5} {s.core.saves:>5} {s.boost.bpm:>4} "
              f"{s.positioning.percent_behind_ball:>7.1f}")
