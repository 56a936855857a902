//! PATCH bodies for replays and groups: `None` leaves a field unchanged, while an empty or
//! false value is sent (`"group": ""` ungroups, `"shared": false` unshares); an empty patch
//! is refused by the client before sending.

use serde::Serialize;

use crate::enums::{PlayerIdentification, TeamIdentification, Visibility};

/// `PATCH /replays/{id}`. A `None` field is left unchanged; `Some("")` for the group
/// removes the replay from its group. An empty patch is refused before sending.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReplayPatch {
    /// New title.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// New visibility.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<Visibility>,
    /// New group; `Some("")` ungroups.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
}

impl ReplayPatch {
    /// A patch that changes nothing yet.
    ///
    /// ```
    /// assert!(ballchasing_api::ReplayPatch::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the title.
    ///
    /// ```
    /// let patch = ballchasing_api::ReplayPatch::new().title("Game 7");
    /// ```
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// Sets the visibility.
    ///
    /// ```
    /// let patch = ballchasing_api::ReplayPatch::new().visibility(ballchasing_api::Visibility::Private);
    /// ```
    pub fn visibility(mut self, visibility: Visibility) -> Self {
        self.visibility = Some(visibility);
        self
    }

    /// Moves the replay into `group`.
    ///
    /// ```
    /// let patch = ballchasing_api::ReplayPatch::new().group("season-12-x1y2");
    /// ```
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }

    /// Removes the replay from its group (sends `"group": ""`).
    ///
    /// ```
    /// let patch = ballchasing_api::ReplayPatch::new().ungroup();
    /// assert_eq!(serde_json::to_string(&patch).unwrap(), r#"{"group":""}"#);
    /// ```
    pub fn ungroup(mut self) -> Self {
        self.group = Some(String::new());
        self
    }

    /// True when no field would be sent.
    ///
    /// ```
    /// assert!(!ballchasing_api::ReplayPatch::new().title("").is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// `PATCH /groups/{id}`. A `None` field is left unchanged; `Some(false)` unshares.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GroupPatch {
    /// New player identification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub player_identification: Option<PlayerIdentification>,
    /// New team identification.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_identification: Option<TeamIdentification>,
    /// New parent group id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Shared by link or not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shared: Option<bool>,
}

impl GroupPatch {
    /// A patch that changes nothing yet.
    ///
    /// ```
    /// assert!(ballchasing_api::GroupPatch::new().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets sharing on or off (`false` is sent, not dropped).
    ///
    /// ```
    /// let patch = ballchasing_api::GroupPatch::new().shared(false);
    /// assert_eq!(serde_json::to_string(&patch).unwrap(), r#"{"shared":false}"#);
    /// ```
    pub fn shared(mut self, shared: bool) -> Self {
        self.shared = Some(shared);
        self
    }

    /// Moves the group under `parent`.
    ///
    /// ```
    /// let patch = ballchasing_api::GroupPatch::new().parent("league-x1");
    /// ```
    pub fn parent(mut self, parent: impl Into<String>) -> Self {
        self.parent = Some(parent.into());
        self
    }

    /// Sets player identification.
    ///
    /// ```
    /// let patch = ballchasing_api::GroupPatch::new().player_identification(ballchasing_api::PlayerIdentification::ByName);
    /// ```
    pub fn player_identification(mut self, value: PlayerIdentification) -> Self {
        self.player_identification = Some(value);
        self
    }

    /// Sets team identification.
    ///
    /// ```
    /// let patch = ballchasing_api::GroupPatch::new().team_identification(ballchasing_api::TeamIdentification::ByPlayerClusters);
    /// ```
    pub fn team_identification(mut self, value: TeamIdentification) -> Self {
        self.team_identification = Some(value);
        self
    }

    /// True when no field would be sent.
    ///
    /// ```
    /// assert!(ballchasing_api::GroupPatch::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}
