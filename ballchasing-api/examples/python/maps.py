# Task 7 with python-ballchasing 0.5.4: the map codes and their names.
import os
from ballchasing import BallchasingApi

api = BallchasingApi(os.environ["BALLCHASING_TOKEN"], base_url=os.environ.get("BALLCHASING_API_URL"))
for code, name in sorted(api.get_maps().items()):
    print(f"{code}: {name}")
