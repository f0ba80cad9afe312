//! AlterConfigs and IncrementalAlterConfigs of a topic. The server turns an incremental
//! change into the topic's whole new set of overrides.

use std::collections::BTreeMap;

use super::create_topic::validate_configs;
use super::error::{ControllerError, ErrorKind};
use super::Controller;
use crate::image::MetadataImage;
use crate::records::{ConfigResource, MetadataRecord, RecordBatch};

impl Controller {
    /// Replaces topic `name`'s overrides with `configs` (values already validated by the
    /// broker): one Config record per override set, changed or removed, none for an unchanged
    /// one. An empty batch when nothing changes or when `validate_only`.
    pub fn set_topic_configs(
        &mut self,
        image: &MetadataImage,
        name: &str,
        configs: BTreeMap<String, String>,
        validate_only: bool,
    ) -> Result<RecordBatch, ControllerError> {
        let topic = image.topic(name).ok_or_else(|| {
            ControllerError::new(
                ErrorKind::UnknownTopicOrPartition,
                format!("no topic {name}"),
            )
        })?;
        validate_configs(&configs)?;
        if validate_only {
            return Ok(RecordBatch::default());
        }
        let config = |config_name: &str, value: Option<&String>| MetadataRecord::Config {
            resource: ConfigResource::Topic,
            resource_name: name.to_owned(),
            name: config_name.to_owned(),
            value: value.cloned(),
        };
        let removed = topic.configs.keys().filter(|k| !configs.contains_key(*k));
        let mut records: Vec<MetadataRecord> = removed.map(|k| config(k, None)).collect();
        let changed = configs
            .iter()
            .filter(|(k, v)| topic.configs.get(*k) != Some(*v));
        records.extend(changed.map(|(k, v)| config(k, Some(v))));
        Ok(RecordBatch { records })
    }
}
