//! AllocateProducerIds: contiguous, disjoint blocks of 1000 for registered brokers at their
//! current epoch, continued by a new controller from the image alone.

use super::*;
use crate::controller::limits::PRODUCER_ID_BLOCK_SIZE;

fn allocate(cluster: &mut Cluster, broker_id: i32) -> Result<ProducerIdBlock, ControllerError> {
    let epoch = cluster.epoch(broker_id);
    let (block, batch) =
        cluster
            .controller
            .allocate_producer_ids(&cluster.image, broker_id, epoch)?;
    cluster.commit(batch);
    Ok(block)
}

#[test]
fn blocks_are_contiguous_and_disjoint_across_brokers() {
    let mut cluster = Cluster::with_brokers(2);
    let first = allocate(&mut cluster, 1).unwrap();
    let second = allocate(&mut cluster, 2).unwrap();
    let third = allocate(&mut cluster, 1).unwrap();
    assert_eq!(first.first_producer_id, 0);
    assert_eq!(first.size, PRODUCER_ID_BLOCK_SIZE);
    assert_eq!(second.first_producer_id, PRODUCER_ID_BLOCK_SIZE);
    assert_eq!(third.first_producer_id, 2 * PRODUCER_ID_BLOCK_SIZE);
    assert_eq!(
        cluster.image.next_producer_id_block_start,
        3 * PRODUCER_ID_BLOCK_SIZE
    );
}

#[test]
fn a_new_controller_continues_after_the_last_block() {
    let mut cluster = Cluster::with_brokers(1);
    allocate(&mut cluster, 1).unwrap();
    cluster.controller = Controller::new(cluster.controller.config().clone(), 99);
    cluster.controller.activate(&cluster.image, cluster.now_ms);
    let block = allocate(&mut cluster, 1).unwrap();
    assert_eq!(block.first_producer_id, PRODUCER_ID_BLOCK_SIZE);
}

#[test]
fn a_stale_or_unknown_broker_gets_no_block() {
    let mut cluster = Cluster::with_brokers(1);
    let old_epoch = cluster.epoch(1);
    // A restart the new controller sees before the old incarnation's session.
    let now_ms = cluster.now_ms;
    cluster
        .controller
        .activate(&MetadataImage::default(), now_ms);
    cluster.register(1);
    assert!(cluster.epoch(1) > old_epoch);
    for (broker_id, epoch) in [(1, old_epoch), (7, 0)] {
        let before = cluster.image.clone();
        let refused = cluster
            .controller
            .allocate_producer_ids(&cluster.image, broker_id, epoch)
            .unwrap_err();
        assert_eq!(refused.kind, ErrorKind::StaleBrokerEpoch);
        assert_eq!(cluster.image, before);
    }
}

#[test]
fn a_block_that_does_not_follow_the_last_is_refused_by_the_image() {
    let mut cluster = Cluster::with_brokers(1);
    allocate(&mut cluster, 1).unwrap();
    let overlapping = RecordBatch {
        records: vec![crate::records::MetadataRecord::ProducerIdsBlock {
            broker_id: 1,
            broker_epoch: cluster.epoch(1),
            first_producer_id: 0,
            size: PRODUCER_ID_BLOCK_SIZE,
        }],
    };
    let offset = cluster.image.offset + 1;
    assert!(cluster.image.apply(offset, &overlapping).is_err());
}
