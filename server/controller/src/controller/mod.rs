//! The active controller's decisions, pure: commands in (with the current image and the time),
//! records out. Only the Raft leader runs it; the records it returns are proposed, and take
//! effect when committed and applied to every node's image.
//!
//! OWNER: helper H1.
