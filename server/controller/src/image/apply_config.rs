//! Config records: one override of a topic, a broker, or the cluster default.

use super::{ApplyError, MetadataImage};
use crate::records::ConfigResource;

impl MetadataImage {
    /// `value` `None` removes the override (removing an absent one changes nothing). A topic's
    /// overrides live in its [`TopicImage`](super::TopicImage), so the topic must exist; broker
    /// overrides are kept by `resource_name` (a broker id, or "" for the cluster default) and a
    /// broker with no override left disappears from the map.
    pub(super) fn apply_config(
        &mut self,
        resource: ConfigResource,
        resource_name: &str,
        name: &str,
        value: Option<&str>,
    ) -> Result<(), ApplyError> {
        if name.is_empty() {
            return Err(ApplyError::Inconsistent(format!(
                "config with an empty name for {resource:?} {resource_name:?}"
            )));
        }
        match resource {
            ConfigResource::Topic => {
                let topic = self.topics.get_mut(resource_name).ok_or_else(|| {
                    ApplyError::Inconsistent(format!(
                        "config {name} of unknown topic {resource_name}"
                    ))
                })?;
                match value {
                    Some(value) => topic.configs.insert(name.to_owned(), value.to_owned()),
                    None => topic.configs.remove(name),
                };
            }
            ConfigResource::Broker => match value {
                Some(value) => {
                    let configs = self
                        .broker_configs
                        .entry(resource_name.to_owned())
                        .or_default();
                    configs.insert(name.to_owned(), value.to_owned());
                }
                None => {
                    if let Some(configs) = self.broker_configs.get_mut(resource_name) {
                        configs.remove(name);
                        if configs.is_empty() {
                            self.broker_configs.remove(resource_name);
                        }
                    }
                }
            },
        }
        Ok(())
    }
}
