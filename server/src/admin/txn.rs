//! `sluice txn list|describe`: transactions as their coordinators see them, like Kafka's
//! `kafka-transactions.sh list|describe`.
//!
//! - `list` asks every broker of the cluster (ListTransactions): each coordinator knows only
//!   the transactional ids whose `__transaction_state` partition it leads;
//! - `describe TRANSACTIONAL_ID` finds the id's coordinator (FindCoordinator, key type 1) and
//!   asks it (DescribeTransactions): state, producer id and epoch, timeout, the open
//!   transaction's start time and its partitions.

use std::collections::BTreeMap;

use clap::{Args, Subcommand};
use kafka_protocol::messages::describe_transactions_response::TransactionState as Described;
use kafka_protocol::messages::list_transactions_response::TransactionState as Listed;
use kafka_protocol::messages::{
    DescribeTransactionsRequest, ListTransactionsRequest, ProducerId, TransactionalId,
};
use kafka_protocol::protocol::StrBytes;

use super::error::AdminError;
use super::group::locate_coordinator;
use super::pool::BrokerPool;
use super::render::table;
use super::{versions, ConnectArgs};

/// FindCoordinator key type of a transactional id.
pub const COORDINATOR_KEY_TRANSACTION: i8 = 1;

/// Kafka's transaction states (`TransactionState.java`), as ListTransactions filters by them.
pub const STATES: [&str; 8] = [
    "Empty",
    "Ongoing",
    "PrepareCommit",
    "PrepareAbort",
    "CompleteCommit",
    "CompleteAbort",
    "Dead",
    "PrepareEpochFence",
];

/// Inspect transactions over the Kafka protocol.
#[derive(Debug, Args)]
pub struct TxnArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(subcommand)]
    pub command: TxnCommand,
}

#[derive(Debug, Subcommand)]
pub enum TxnCommand {
    /// The transactional ids every coordinator of the cluster knows (ListTransactions).
    List {
        /// Only transactions in this state (repeatable): Empty, Ongoing, PrepareCommit,
        /// PrepareAbort, CompleteCommit, CompleteAbort, Dead, PrepareEpochFence.
        #[arg(long = "state", value_name = "STATE")]
        states: Vec<String>,
        /// Only this producer id (repeatable).
        #[arg(long = "producer-id", value_name = "ID")]
        producer_ids: Vec<i64>,
    },
    /// One transactional id on its coordinator (DescribeTransactions).
    Describe { transactional_id: String },
}

impl TxnCommand {
    /// Refuses a state Kafka does not have, before asking any broker.
    pub fn validate(&self) -> Result<(), String> {
        if let TxnCommand::List { states, .. } = self {
            if let Some(bad) = states.iter().find(|s| !STATES.contains(&s.as_str())) {
                return Err(format!(
                    "--state {bad}: expected one of {}",
                    STATES.join(", ")
                ));
            }
        }
        Ok(())
    }
}

pub fn list_transactions_request(
    _version: i16,
    states: &[String],
    producer_ids: &[i64],
) -> ListTransactionsRequest {
    let mut request = ListTransactionsRequest::default();
    request.state_filters = states
        .iter()
        .map(|s| StrBytes::from_string(s.clone()))
        .collect();
    request.producer_id_filters = producer_ids.iter().map(|p| ProducerId(*p)).collect();
    request
}

pub fn describe_transactions_request(
    _version: i16,
    transactional_id: &str,
) -> DescribeTransactionsRequest {
    let mut request = DescribeTransactionsRequest::default();
    let id: TransactionalId = StrBytes::from_string(transactional_id.to_string()).into();
    request.transactional_ids = vec![id];
    request
}

pub fn execute(pool: &mut BrokerPool, command: &TxnCommand) -> Result<String, AdminError> {
    match command {
        TxnCommand::List {
            states,
            producer_ids,
        } => list(pool, states, producer_ids),
        TxnCommand::Describe { transactional_id } => describe(pool, transactional_id),
    }
}

/// Transactions live on their coordinators, so every broker is asked.
fn list(
    pool: &mut BrokerPool,
    states: &[String],
    producer_ids: &[i64],
) -> Result<String, AdminError> {
    pool.metadata(Some(&[]))?;
    let nodes = pool.node_ids();
    let nodes = if nodes.is_empty() { vec![-1] } else { nodes };
    let mut listed = Vec::new();
    for node in nodes {
        let client = pool.node(node)?;
        let response = client.call(versions::LIST_TRANSACTIONS, |v| {
            list_transactions_request(v, states, producer_ids)
        })?;
        AdminError::check(response.error_code, None, || {
            format!("list transactions on broker {node}")
        })?;
        if !response.unknown_state_filters.is_empty() {
            let unknown: Vec<&str> = response
                .unknown_state_filters
                .iter()
                .map(|s| s.as_str())
                .collect();
            eprintln!(
                "note: broker {node} does not know the state(s) {}",
                unknown.join(", ")
            );
        }
        listed.extend(response.transaction_states.into_iter().map(|t| (node, t)));
    }
    Ok(render_list(&listed))
}

pub fn render_list(listed: &[(i32, Listed)]) -> String {
    let mut sorted: Vec<&(i32, Listed)> = listed.iter().collect();
    sorted.sort_by(|a, b| {
        a.1.transactional_id
            .as_str()
            .cmp(b.1.transactional_id.as_str())
    });
    let rows: Vec<Vec<String>> = sorted
        .iter()
        .map(|(node, t)| {
            vec![
                t.transactional_id.to_string(),
                node_name(*node),
                t.producer_id.0.to_string(),
                t.transaction_state.to_string(),
            ]
        })
        .collect();
    table(
        &["TRANSACTIONAL-ID", "COORDINATOR", "PRODUCER-ID", "STATE"],
        &rows,
    )
}

/// -1 stands for the bootstrap broker of a cluster whose ids the CLI did not learn.
fn node_name(node: i32) -> String {
    if node < 0 {
        "-".to_string()
    } else {
        node.to_string()
    }
}

fn describe(pool: &mut BrokerPool, transactional_id: &str) -> Result<String, AdminError> {
    pool.metadata(Some(&[]))?;
    let node = locate_coordinator(pool, transactional_id, COORDINATOR_KEY_TRANSACTION)?;
    let response = pool
        .node(node)?
        .call(versions::DESCRIBE_TRANSACTIONS, |v| {
            describe_transactions_request(v, transactional_id)
        })?;
    let state = response
        .transaction_states
        .into_iter()
        .find(|t| t.transactional_id.as_str() == transactional_id)
        .ok_or_else(|| {
            AdminError::Usage(format!(
                "broker returned no description of transactional id {transactional_id}"
            ))
        })?;
    AdminError::check(state.error_code, None, || {
        format!("describe transactional id {transactional_id}")
    })?;
    Ok(render_described(node, &state, now_ms()))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// Key-value lines, then the transaction's partitions (Kafka's describe columns).
pub fn render_described(coordinator: i32, state: &Described, now_ms: i64) -> String {
    let started = state.transaction_start_time_ms;
    let (start, duration) = if started < 0 {
        ("-".to_string(), "-".to_string())
    } else {
        (started.to_string(), (now_ms - started).max(0).to_string())
    };
    let mut out = String::new();
    let fields = [
        ("TRANSACTIONAL-ID", state.transactional_id.to_string()),
        ("COORDINATOR", node_name(coordinator)),
        ("STATE", state.transaction_state.to_string()),
        ("PRODUCER-ID", state.producer_id.0.to_string()),
        ("PRODUCER-EPOCH", state.producer_epoch.to_string()),
        ("TIMEOUT-MS", state.transaction_timeout_ms.to_string()),
        ("START-TIME-MS", start),
        ("DURATION-MS", duration),
    ];
    for (name, value) in fields {
        out.push_str(&format!("{name:<17}{value}\n"));
    }
    let mut partitions: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for topic in &state.topics {
        partitions
            .entry(topic.topic.to_string())
            .or_default()
            .extend(&topic.partitions);
    }
    let rows: Vec<Vec<String>> = partitions
        .into_iter()
        .flat_map(|(topic, mut indexes)| {
            indexes.sort_unstable();
            indexes
                .into_iter()
                .map(move |p| vec![topic.clone(), p.to_string()])
        })
        .collect();
    out.push('\n');
    out.push_str(&table(&["TOPIC", "PARTITION"], &rows));
    out
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::describe_transactions_response::TopicData;

    use super::*;

    fn listed(id: &'static str, producer_id: i64, state: &'static str) -> Listed {
        let mut t = Listed::default();
        t.transactional_id = StrBytes::from_static_str(id).into();
        t.producer_id = ProducerId(producer_id);
        t.transaction_state = StrBytes::from_static_str(state);
        t
    }

    #[test]
    fn list_asks_with_the_filters_given() {
        let request = list_transactions_request(1, &["Ongoing".into()], &[7, 9]);
        assert_eq!(request.state_filters[0].as_str(), "Ongoing");
        let ids: Vec<i64> = request.producer_id_filters.iter().map(|p| p.0).collect();
        assert_eq!(ids, [7, 9]);
        let none = list_transactions_request(0, &[], &[]);
        assert!(none.state_filters.is_empty() && none.producer_id_filters.is_empty());
    }

    #[test]
    fn unknown_states_are_refused_before_asking() {
        let list = |state: &str| TxnCommand::List {
            states: vec![state.to_string()],
            producer_ids: vec![],
        };
        assert!(list("Ongoing").validate().is_ok());
        let error = list("Running")
            .validate()
            .map_or_else(|e| e, |()| String::new());
        assert!(error.contains("PrepareEpochFence"), "{error}");
    }

    #[test]
    fn list_renders_one_row_per_transaction_sorted_by_id() {
        let text = render_list(&[
            (2, listed("b-app", 1001, "Ongoing")),
            (1, listed("a-app", 1000, "CompleteCommit")),
        ]);
        let rows: Vec<Vec<&str>> = text
            .lines()
            .map(|l| l.split_whitespace().collect())
            .collect();
        assert_eq!(
            rows,
            [
                vec!["TRANSACTIONAL-ID", "COORDINATOR", "PRODUCER-ID", "STATE"],
                vec!["a-app", "1", "1000", "CompleteCommit"],
                vec!["b-app", "2", "1001", "Ongoing"],
            ]
        );
    }

    #[test]
    fn describe_renders_the_state_and_the_partitions() {
        let mut state = Described::default();
        state.transactional_id = StrBytes::from_static_str("app").into();
        state.transaction_state = StrBytes::from_static_str("Ongoing");
        state.producer_id = ProducerId(1000);
        state.producer_epoch = 3;
        state.transaction_timeout_ms = 60_000;
        state.transaction_start_time_ms = 1_000;
        let mut topic = TopicData::default();
        topic.topic = StrBytes::from_static_str("t").into();
        topic.partitions = vec![2, 0];
        state.topics = vec![topic];
        let text = render_described(0, &state, 1_500);
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
                .unwrap_or("")
                .to_string()
        };
        assert_eq!(field("STATE"), "Ongoing", "{text}");
        assert_eq!(field("PRODUCER-ID"), "1000");
        assert_eq!(field("PRODUCER-EPOCH"), "3");
        assert_eq!(field("TIMEOUT-MS"), "60000");
        assert_eq!(field("START-TIME-MS"), "1000");
        assert_eq!(field("DURATION-MS"), "500");
        assert!(text.contains("t      0\nt      2\n"), "{text}");

        state.transaction_start_time_ms = -1;
        state.topics.clear();
        let empty = render_described(0, &state, 1_500);
        assert!(empty.contains("START-TIME-MS    -\n"), "{empty}");
        assert!(empty.ends_with("TOPIC  PARTITION\n"), "{empty}");
    }
}
