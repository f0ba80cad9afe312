//! Owner side of acks=all: fdatasync the named partitions (each flush coalesces with every
//! other flush of its partition: group commit) and wake readers of the newly durable data.

use crate::error_code::{ResponseError, NONE};
use crate::util::join_all;

use super::registry::Partitions;

pub async fn flush(partitions: &Partitions, parts: Vec<(String, i32)>) -> Vec<i16> {
    let flushes = parts
        .iter()
        .map(|(topic, index)| {
            let partition = partitions.get(topic, *index);
            async move {
                let Some(partition) = partition else {
                    return ResponseError::UnknownTopicOrPartition.code();
                };
                match crate::metrics::hooks::flush(partition.flush()).await {
                    Ok(_) => NONE,
                    Err(err) => {
                        tracing::error!(%topic, partition = index, "flush failed: {err}");
                        ResponseError::KafkaStorageError.code()
                    }
                }
            }
        })
        .collect();
    let codes = join_all(flushes).await;
    partitions.data_notify().notify();
    codes
}
