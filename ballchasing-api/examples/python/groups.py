# Task 6 with python-ballchasing 0.5.4: create, list, get, patch, replays, delete a group.
import os, sys
from ballchasing import BallchasingApi

api = BallchasingApi(os.environ["BALLCHASING_TOKEN"], base_url=os.environ.get("BALLCHASING_API_URL"))
gid = api.create_group(name=sys.argv[1], player_identification="by-name",
                       team_identification="by-distinct-players")["id"]
for g in api.get_groups(creator="me"):
    print(f"mine: {g['id']}")
group = api.get_group(gid)
print(f"{group['name']}: {len(group['players'])} players")
api.patch_group(gid, shared=True)
for path, r in api.get_group_tree(gid):
    print(f"replay {r['id']} in {'/'.join(path)}")
api.delete_group(gid)
