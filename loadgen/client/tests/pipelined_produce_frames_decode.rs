//! Framing checks over a real loopback socket: what `Connection` writes decodes with
//! kafka-protocol's broker-side decoders, and responses round-trip back, pipelined.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::thread;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ProduceRequest, ProduceResponse, ResponseHeader};
use kafka_protocol::protocol::{
    decode_request_header_from_buffer, Decodable, Encodable, HeaderVersion,
};

use sluice_kafka_client::{
    decode_response, topic_name, BatchBuilder, Codec, ConnectOptions, Connection,
};

const VERSION: i16 = 9;

fn read_frame(stream: &mut std::net::TcpStream) -> Bytes {
    let mut size = [0u8; 4];
    stream.read_exact(&mut size).expect("size");
    let mut body = vec![0u8; i32::from_be_bytes(size) as usize];
    stream.read_exact(&mut body).expect("body");
    Bytes::from(body)
}

#[test]
fn pipelined_produce_requests_frame_and_decode() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let server = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut seen = Vec::new();
        for _ in 0..3 {
            let mut frame = read_frame(&mut stream);
            let header = decode_request_header_from_buffer(&mut frame).expect("header");
            assert_eq!(header.request_api_key, 0);
            assert_eq!(header.request_api_version, VERSION);
            let request = ProduceRequest::decode(&mut frame, VERSION).expect("produce body");
            let data = &request.topic_data[0].partition_data[0];
            seen.push((
                header.correlation_id,
                data.index,
                data.records.clone().expect("records"),
            ));
        }
        for (correlation_id, index, _) in &seen {
            let response =
                ProduceResponse::default().with_responses(vec![TopicProduceResponse::default()
                    .with_name(topic_name("t"))
                    .with_partition_responses(vec![PartitionProduceResponse::default()
                        .with_index(*index)
                        .with_base_offset(100 + *index as i64)])]);
            let mut out = BytesMut::new();
            out.put_i32(0);
            ResponseHeader::default()
                .with_correlation_id(*correlation_id)
                .encode(&mut out, ProduceResponse::header_version(VERSION))
                .expect("encode header");
            response.encode(&mut out, VERSION).expect("encode response");
            let size = (out.len() - 4) as i32;
            out[0..4].copy_from_slice(&size.to_be_bytes());
            stream.write_all(&out).expect("write response");
        }
        seen
    });

    let options = ConnectOptions::new("sluice-tests");
    let mut conn = Connection::connect(&addr, &options).expect("connect");
    let mut reader = conn.take_reader().expect("reader");
    let mut sent = Vec::new();
    for p in 0..3 {
        let mut builder = BatchBuilder::new(1024);
        builder.append(1, None, b"hello", &[p as u8; 10]);
        let batch = builder.seal(Codec::None).expect("seal");
        let request = ProduceRequest::default()
            .with_acks(1)
            .with_timeout_ms(1000)
            .with_topic_data(vec![TopicProduceData::default()
                .with_name(topic_name("t"))
                .with_partition_data(vec![PartitionProduceData::default()
                    .with_index(p)
                    .with_records(Some(batch.clone()))])]);
        let correlation_id = conn.send(&request, VERSION).expect("send");
        sent.push((correlation_id, p, batch));
    }
    for (correlation_id, p, _) in &sent {
        let frame = reader.read_frame().expect("frame");
        let (got, response) = decode_response::<ProduceRequest>(frame, VERSION).expect("decode");
        assert_eq!(got, *correlation_id, "responses come back in request order");
        let pr = &response.responses[0].partition_responses[0];
        assert_eq!(pr.index, *p);
        assert_eq!(pr.base_offset, 100 + *p as i64);
    }
    let seen = server.join().expect("server thread");
    assert_eq!(seen, sent, "the broker side decoded exactly what was sent");
}
