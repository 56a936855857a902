//! Task 6: a group's whole life: create, list, get, patch, its replays (recursively), delete.
//! `cargo run -p ballchasing-api --example groups -- NAME`
use ballchasing_api::{Client, GroupFilter, GroupPatch, NewGroup, PlayerIdentification};

#[tokio::main]
async fn main() -> Result<(), ballchasing_api::Error> {
    let client = Client::from_env()?;
    let new = NewGroup::new(std::env::args().nth(1).unwrap())
        .player_identification(PlayerIdentification::ByName);
    let id = client.create_group(&new).await?.value.id;
    let mut mine = client.groups(&GroupFilter::mine());
    while let Some(group) = mine.try_next().await? {
        println!("mine: {}", group.id);
    }
    let group = client.get_group(&id).await?.value;
    let (name, players) = (group.name.unwrap_or_default(), group.players.len());
    println!("{name}: {players} players");
    let patch = GroupPatch::new().shared(true);
    client.patch_group(&id, &patch).await?;
    let mut replays = client.group_replays(&id);
    while let Some(found) = replays.try_next().await? {
        println!("replay {} in {}", found.replay.id, found.path.join("/"));
    }
    client.delete_group(&id).await?;
    Ok(())
}
