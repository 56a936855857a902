# Task 1 with python-ballchasing 0.5.4: check the token, account, tier and quota.
import os
from ballchasing import BallchasingApi

api = BallchasingApi(os.environ["BALLCHASING_TOKEN"], base_url=os.environ.get("BALLCHASING_API_URL"))
me = api.ping()
print(f"token works: {me['name']} ({me['steam_id']}), tier {me['type']}")
if me.get("quota"):
    day = me["quota"]["uploads_in_24h"]
    print(f"uploads in 24 h: {day['used']} of {day['max']}")
