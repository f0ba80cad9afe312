//! The acknowledged history of a produce run, persisted so that a later `verify` (for
//! example after the broker was SIGKILLed and restarted, across several runs) can check a
//! topic against it.
//!
//! Text, one acked batch per line: `partition producer_id sequence_first count offset_first`
//! (`-` when the offset is unknown, as with acks=0), and for a transactional batch a sixth
//! field, how its transaction ended: `c` committed, `a` aborted, `?` unknown. The first line
//! names the topic.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

use super::checker::{AckedBatch, TxnMark};
use crate::error::{io_context, Error, Result};

const MAGIC: &str = "# sluice-loadgen history v1 topic=";

pub fn write(path: &Path, topic: &str, batches: &[AckedBatch]) -> Result<()> {
    let file = File::create(path).map_err(io_context(format!("creating {}", path.display())))?;
    let mut out = BufWriter::new(file);
    writeln!(out, "{MAGIC}{topic}")?;
    for b in batches {
        let offset = b
            .offset_first
            .map(|o| o.to_string())
            .unwrap_or_else(|| "-".into());
        let txn = match b.txn {
            TxnMark::None => "",
            TxnMark::Committed => " c",
            TxnMark::Aborted => " a",
            TxnMark::Pending(_) | TxnMark::Unknown => " ?",
        };
        writeln!(
            out,
            "{} {} {} {} {}{txn}",
            b.partition, b.producer_id, b.sequence_first, b.count, offset
        )?;
    }
    let file = out.into_inner().map_err(|e| Error::Io(e.into_error()))?;
    file.sync_all()
        .map_err(io_context(format!("syncing {}", path.display())))?;
    Ok(())
}

/// Reads a history file; returns (topic, batches).
pub fn read(path: &Path) -> Result<(String, Vec<AckedBatch>)> {
    let file = File::open(path).map_err(io_context(format!("opening {}", path.display())))?;
    let mut lines = BufReader::new(file).lines();
    let bad = |what: &str| Error::Config(format!("{}: {what}", path.display()));
    let first = lines.next().ok_or_else(|| bad("empty history file"))??;
    let topic = first
        .strip_prefix(MAGIC)
        .ok_or_else(|| bad("not a sluice-loadgen history"))?
        .to_string();
    let mut batches = Vec::new();
    for (n, line) in lines.enumerate() {
        let line = line?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let malformed = || bad(&format!("line {} malformed", n + 2));
        if fields.len() != 5 && fields.len() != 6 {
            return Err(malformed());
        }
        let txn = match fields.get(5).copied() {
            None => TxnMark::None,
            Some("c") => TxnMark::Committed,
            Some("a") => TxnMark::Aborted,
            Some("?") => TxnMark::Unknown,
            Some(_) => return Err(malformed()),
        };
        batches.push(AckedBatch {
            partition: fields[0].parse().map_err(|_| malformed())?,
            producer_id: fields[1].parse().map_err(|_| malformed())?,
            sequence_first: fields[2].parse().map_err(|_| malformed())?,
            count: fields[3].parse().map_err(|_| malformed())?,
            offset_first: match fields[4] {
                "-" => None,
                o => Some(o.parse().map_err(|_| malformed())?),
            },
            txn,
        });
    }
    Ok((topic, batches))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_round_trips() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("h.txt");
        let batches = vec![
            AckedBatch {
                partition: 3,
                producer_id: u64::MAX,
                sequence_first: 7,
                count: 2,
                offset_first: Some(40),
                txn: TxnMark::None,
            },
            AckedBatch {
                partition: 0,
                producer_id: 1,
                sequence_first: 0,
                count: 1,
                offset_first: None,
                txn: TxnMark::None,
            },
            AckedBatch {
                partition: 1,
                producer_id: 2,
                sequence_first: 0,
                count: 3,
                offset_first: Some(9),
                txn: TxnMark::Committed,
            },
            AckedBatch {
                partition: 1,
                producer_id: 2,
                sequence_first: 3,
                count: 3,
                offset_first: Some(13),
                txn: TxnMark::Aborted,
            },
            AckedBatch {
                partition: 1,
                producer_id: 2,
                sequence_first: 6,
                count: 1,
                offset_first: Some(17),
                txn: TxnMark::Unknown,
            },
        ];
        write(&path, "t-1", &batches).expect("write");
        let (topic, back) = read(&path).expect("read");
        assert_eq!(topic, "t-1");
        assert_eq!(back, batches);
    }
}
