//! A voter refuses, with an error and without panicking, what a peer connection must never
//! carry: undecodable bytes, a message claiming another sender, a sender outside the voters,
//! and proposals to a follower get NotLeader.

use protobuf::Message as _;
use raft::eraftpb::{Message, MessageType};
use sluice_controller::quorum::{MemDisk, Quorum, QuorumConfig, QuorumError};

fn follower() -> Quorum {
    let config = QuorumConfig::with_kafka_timing(0, vec![0, 1, 2], 7);
    let (quorum, recovered) = Quorum::open(config, &mut MemDisk::new()).expect("open");
    assert_eq!(recovered.snapshot, None);
    assert!(recovered.committed.is_empty());
    quorum
}

fn heartbeat(from_raft_id: u64, to_raft_id: u64) -> Vec<u8> {
    let mut message = Message::default();
    message.set_msg_type(MessageType::MsgHeartbeat);
    message.from = from_raft_id;
    message.to = to_raft_id;
    message.term = 1;
    message.write_to_bytes().expect("encode")
}

#[test]
fn malformed_bytes_are_refused() {
    let mut quorum = follower();
    for bytes in [&b"\xff\xff\xff\xff"[..], &[0x0a, 0xff, 0x01], &[0x12; 9]] {
        match quorum.step(1, bytes) {
            Err(QuorumError::Malformed { from: 1, .. }) => {}
            other => panic!("expected Malformed, got {other:?}"),
        }
    }
}

#[test]
fn a_message_claiming_another_sender_is_refused() {
    let mut quorum = follower();
    // Node 1's connection (raft id 2) carries a message that claims raft id 3 (node 2).
    assert!(matches!(
        quorum.step(1, &heartbeat(3, 1)),
        Err(QuorumError::WrongSender {
            from: 1,
            claimed: 3
        })
    ));
    assert!(matches!(
        quorum.step(1, &heartbeat(2, 3)),
        Err(QuorumError::WrongRecipient { .. })
    ));
    assert!(quorum.step(1, &heartbeat(2, 1)).is_ok());
}

#[test]
fn a_sender_outside_the_voters_is_refused() {
    let mut quorum = follower();
    assert!(matches!(
        quorum.step(9, &heartbeat(10, 1)),
        Err(QuorumError::NotVoter(9))
    ));
    assert!(matches!(
        quorum.step(-1, &heartbeat(0, 1)),
        Err(QuorumError::NotVoter(-1))
    ));
}

#[test]
fn local_and_forwarded_messages_are_refused() {
    let mut quorum = follower();
    for kind in [
        MessageType::MsgHup,
        MessageType::MsgPropose,
        MessageType::MsgTransferLeader,
    ] {
        let mut message = Message::default();
        message.set_msg_type(kind);
        message.from = 2;
        message.to = 1;
        let bytes = message.write_to_bytes().expect("encode");
        assert!(matches!(
            quorum.step(1, &bytes),
            Err(QuorumError::UnexpectedMessage { .. })
        ));
    }
}

#[test]
fn a_follower_answers_proposals_with_the_leader_it_knows() {
    let mut quorum = follower();
    assert!(matches!(
        quorum.propose(b"x".to_vec()),
        Err(QuorumError::NotLeader { leader: None })
    ));
    quorum.step(1, &heartbeat(2, 1)).expect("heartbeat");
    assert!(matches!(
        quorum.propose(b"x".to_vec()),
        Err(QuorumError::NotLeader { leader: Some(1) })
    ));
}

#[test]
fn a_single_voter_elects_itself_commits_and_replays_after_a_restart() {
    let config = QuorumConfig::with_kafka_timing(5, vec![5], 1);
    let mut disk = MemDisk::new();
    let (mut quorum, _) = Quorum::open(config.clone(), &mut disk).expect("open");
    quorum.campaign().expect("campaign");
    let mut committed = Vec::new();
    let mut proposal = None;
    for _round in 0..16 {
        if proposal.is_none() && quorum.status().leader == Some(5) {
            proposal = Some(quorum.propose(b"hello".to_vec()).expect("propose"));
        }
        while let Some(ready) = quorum.ready() {
            sluice_controller::quorum::RaftDisk::write(&mut disk, &ready.write).expect("write");
            committed.extend(quorum.persisted(ready).committed);
        }
    }
    let (index, term) = proposal.expect("became leader");
    let entry = committed
        .iter()
        .find(|entry| entry.index == index)
        .expect("committed");
    assert_eq!((entry.term, entry.data.as_slice()), (term, &b"hello"[..]));
    drop(quorum);
    let (quorum, recovered) = Quorum::open(config, &mut disk).expect("reopen");
    assert_eq!(recovered.committed, committed);
    assert_eq!(quorum.status().commit_index, index);
}
