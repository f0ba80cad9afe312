//! AllocateProducerIds (Kafka's KIP-730): a broker asks for a block of producer ids and gets
//! the next [`PRODUCER_ID_BLOCK_SIZE`] ids nobody has had. The block is a record, so it is
//! durable and replicated before the broker hands out its first id, and a new controller
//! continues after the last block. A broker whose epoch is stale (an older incarnation) gets
//! nothing.

use super::batch::BatchBuilder;
use super::error::{ControllerError, ErrorKind};
use super::limits::PRODUCER_ID_BLOCK_SIZE;
use super::Controller;
use crate::image::MetadataImage;
use crate::records::{MetadataRecord, RecordBatch};

/// Producer ids `first ..= last` handed to one broker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProducerIdBlock {
    pub first_producer_id: i64,
    pub size: i64,
}

impl Controller {
    pub fn allocate_producer_ids(
        &mut self,
        image: &MetadataImage,
        broker_id: i32,
        broker_epoch: i64,
    ) -> Result<(ProducerIdBlock, RecordBatch), ControllerError> {
        let registered = image.broker(broker_id).map(|b| b.broker_epoch);
        if registered != Some(broker_epoch) {
            return Err(ControllerError::new(
                ErrorKind::StaleBrokerEpoch,
                format!(
                    "broker {broker_id} asks for producer ids with epoch {broker_epoch}, \
                     registered: {registered:?}"
                ),
            ));
        }
        let first_producer_id = image.next_producer_id_block_start;
        assert!(first_producer_id >= 0);
        if first_producer_id > i64::MAX - PRODUCER_ID_BLOCK_SIZE {
            return Err(ControllerError::new(
                ErrorKind::UnknownServerError,
                "every producer id has been handed out",
            ));
        }
        let block = ProducerIdBlock {
            first_producer_id,
            size: PRODUCER_ID_BLOCK_SIZE,
        };
        let mut batch = BatchBuilder::new(image);
        batch.push(MetadataRecord::ProducerIdsBlock {
            broker_id,
            broker_epoch,
            first_producer_id,
            size: block.size,
        });
        assert_eq!(
            batch.image().next_producer_id_block_start,
            first_producer_id + block.size
        );
        Ok((block, batch.finish()))
    }
}
