//! DeleteTopics.

use super::error::{ControllerError, ErrorKind};
use super::Controller;
use crate::image::MetadataImage;
use crate::records::{MetadataRecord, RecordBatch};

impl Controller {
    /// One RemoveTopic record: the topic, its partitions and its configs go together. Brokers
    /// delete the partitions' data when they apply it.
    pub fn delete_topic(
        &mut self,
        image: &MetadataImage,
        name: &str,
    ) -> Result<RecordBatch, ControllerError> {
        let topic = image.topic(name).ok_or_else(|| {
            ControllerError::new(
                ErrorKind::UnknownTopicOrPartition,
                format!("no topic {name}"),
            )
        })?;
        tracing::info!(topic = name, "topic deleted");
        let remove = MetadataRecord::RemoveTopic {
            topic_id: topic.topic_id,
        };
        Ok(RecordBatch {
            records: vec![remove],
        })
    }
}
