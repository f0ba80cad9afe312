//! Reading `--config FILE`: TOML (Sluice's format, strict) or Java properties (Kafka's
//! `server.properties`, lenient about keys Sluice does not use), into a [`BrokerConfig`].
//!
//! Which format: the extension (`.toml`, `.properties`) decides. Otherwise the content does,
//! by [`detect`]'s rule.
//!
//! A properties file maps onto the same settings as TOML (the serde names of
//! [`BrokerConfig`]'s fields). Its values are strings, converted to each setting's type here;
//! as in Kafka's `ConfigDef`, values are trimmed first. Keys Sluice does not know are
//! returned so the caller can log them once; Kafka files carry many (`num.network.threads`,
//! `socket.send.buffer.bytes`, ...), so they are not an error.

use std::path::Path;

use serde::de::value::{Error as ValueError, MapDeserializer};
use serde::de::{Error as _, IntoDeserializer, Visitor};
use serde::Deserialize;

use super::{properties, BrokerConfig, ConfigError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Properties,
}

/// Kafka's singular `log.dir`, read as `log.dirs` when `log.dirs` is absent (as Kafka does).
const LOG_DIR_SINGULAR_KEY: &str = "log.dir";
const LOG_DIRS_KEY: &str = "log.dirs";

/// The format of a config file named `path` holding `text`.
///
/// Without a telling extension: a line starting with `"`, `'` or `[` is TOML (a quoted key,
/// or a table: Kafka keys never start so); a line starting with `!` is properties (a comment
/// TOML does not have). Otherwise the text is TOML if it parses as TOML into flat keys, and
/// properties if not: a Kafka file's unquoted values (`log.dirs=/tmp/x`) are not TOML, and its
/// dotted bare keys (`num.partitions=6`) make nested tables, which no Sluice TOML file has.
pub fn detect(path: &Path, text: &str) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => return Format::Toml,
        Some("properties") => return Format::Properties,
        _ => {}
    }
    for line in text.lines().map(str::trim_start) {
        if line.starts_with(['"', '\'', '[']) {
            return Format::Toml;
        }
        if line.starts_with('!') {
            return Format::Properties;
        }
    }
    match text.parse::<toml::Table>() {
        Ok(table) if !table.values().any(toml::Value::is_table) => Format::Toml,
        _ => Format::Properties,
    }
}

/// A config file read: the settings, plus (properties only) the keys it ignored.
pub struct Loaded {
    pub config: BrokerConfig,
    pub format: Format,
    pub ignored_keys: Vec<String>,
}

pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let format = detect(path, &text);
    let (config, ignored_keys) = match format {
        Format::Toml => {
            let parse_error = |source| ConfigError::Parse {
                path: path.to_path_buf(),
                source,
            };
            let mut table: toml::Table = toml::from_str(&text).map_err(parse_error)?;
            let jaas = take_listener_jaas_toml(&mut table)
                .map_err(|(key, reason)| ConfigError::InvalidNamed { key, reason })?;
            let mut config: BrokerConfig =
                toml::Value::Table(table).try_into().map_err(parse_error)?;
            config.listener_jaas_configs = jaas;
            (config, Vec::new())
        }
        Format::Properties => from_properties(&text).map_err(|reason| ConfigError::Properties {
            path: path.to_path_buf(),
            reason,
        })?,
    };
    Ok(Loaded {
        config,
        format,
        ignored_keys,
    })
}

/// The settings of a properties text, and the keys Sluice does not know (in file order).
pub fn from_properties(text: &str) -> Result<(BrokerConfig, Vec<String>), String> {
    let mut pairs = properties::parse(text).map_err(|e| e.to_string())?;
    if !pairs.iter().any(|(key, _)| key == LOG_DIRS_KEY) {
        if let Some(pair) = pairs
            .iter_mut()
            .find(|(key, _)| key == LOG_DIR_SINGULAR_KEY)
        {
            pair.0 = LOG_DIRS_KEY.to_string();
        }
    }
    let known = setting_names();
    let (jaas_pairs, pairs): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .partition(|(key, _)| super::inter_broker::is_listener_jaas_key(key));
    let (known_pairs, unknown): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .partition(|(key, _)| known.contains(&key.as_str()));
    let values = known_pairs
        .into_iter()
        .map(|(key, text)| (key.clone(), PropertyValue { key, text }));
    let mut config = BrokerConfig::deserialize(MapDeserializer::<_, ValueError>::new(values))
        .map_err(|e| e.to_string())?;
    config.listener_jaas_configs = jaas_pairs
        .into_iter()
        .map(|(key, text)| (key.to_ascii_lowercase(), text))
        .collect();
    Ok((config, unknown.into_iter().map(|(key, _)| key).collect()))
}

/// Takes the `listener.name.<listener>.<mechanism>.sasl.jaas.config` keys out of a TOML
/// table (serde's field list cannot name them), lower-cased as Kafka matches them.
fn take_listener_jaas_toml(
    table: &mut toml::Table,
) -> Result<std::collections::BTreeMap<String, String>, (String, String)> {
    let keys: Vec<String> = table
        .keys()
        .filter(|key| super::inter_broker::is_listener_jaas_key(key))
        .cloned()
        .collect();
    let mut taken = std::collections::BTreeMap::new();
    for key in keys {
        match table.remove(&key) {
            Some(toml::Value::String(text)) => {
                taken.insert(key.to_ascii_lowercase(), text);
            }
            _ => {
                let reason = "expected a string (the JAAS login entry)".to_string();
                return Err((key, reason));
            }
        }
    }
    Ok(taken)
}

/// Every key [`BrokerConfig`] accepts (its serde names), as its derived `Deserialize` tells
/// a deserializer that only asks for the field list.
pub fn setting_names() -> &'static [&'static str] {
    let mut fields: &'static [&'static str] = &[];
    // The catcher always ends in an error once it has the names: that is the expected path.
    let caught = BrokerConfig::deserialize(FieldNameCatcher(&mut fields));
    assert!(caught.is_err());
    assert!(
        !fields.is_empty(),
        "BrokerConfig must deserialize as a struct"
    );
    fields
}

struct FieldNameCatcher<'a>(&'a mut &'static [&'static str]);

impl<'de> serde::Deserializer<'de> for FieldNameCatcher<'_> {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, ValueError> {
        Err(ValueError::custom("only the field names are wanted"))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, ValueError> {
        *self.0 = fields;
        Err(ValueError::custom("field names caught"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// One property's value, converted to whatever type its setting asks for; errors name the
/// key and quote the value.
struct PropertyValue {
    key: String,
    text: String,
}

impl PropertyValue {
    fn trimmed(&self) -> &str {
        self.text.trim()
    }

    fn invalid(&self, expected: &str) -> ValueError {
        ValueError::custom(format!(
            "{}: expected {expected}, got {:?}",
            self.key,
            self.trimmed()
        ))
    }
}

impl<'de> IntoDeserializer<'de, ValueError> for PropertyValue {
    type Deserializer = PropertyValue;

    fn into_deserializer(self) -> PropertyValue {
        self
    }
}

macro_rules! parse_number {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
            let value: $ty = self
                .trimmed()
                .parse()
                .map_err(|_| self.invalid(concat!("an integer (", stringify!($ty), ")")))?;
            visitor.$visit(value)
        }
    )*};
}

impl<'de> serde::Deserializer<'de> for PropertyValue {
    type Error = ValueError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        let text = self.trimmed().to_string();
        visitor.visit_string(text)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        // Kafka's ConfigDef accepts either case.
        match self.trimmed().to_ascii_lowercase().as_str() {
            "true" => visitor.visit_bool(true),
            "false" => visitor.visit_bool(false),
            _ => Err(self.invalid("true or false")),
        }
    }

    parse_number! {
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
    }

    /// An empty value is an unset optional setting (`advertised.listeners=`).
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, ValueError> {
        if self.trimmed().is_empty() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    serde::forward_to_deserialize_any! {
        i128 u128 f32 f64 char str string bytes byte_buf unit unit_struct newtype_struct seq
        tuple tuple_struct map struct enum identifier ignored_any
    }
}

#[cfg(test)]
// A failed unwrap is a failed test, with the value in the message.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const KAFKA_FILE: &str = "\
# Licensed to the Apache Software Foundation (ASF) ...
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
num.network.threads=3
socket.send.buffer.bytes=102400
log.dirs=/tmp/kraft-combined-logs
num.partitions = 3
auto.create.topics.enable : FALSE
offsets.topic.replication.factor=1
log.retention.hours=168
";

    #[test]
    fn the_extension_decides_first() {
        assert_eq!(detect(Path::new("a.toml"), "a=b"), Format::Toml);
        assert_eq!(
            detect(Path::new("a.properties"), "\"a\" = 1"),
            Format::Properties
        );
    }

    #[test]
    fn content_tells_toml_from_properties() {
        let cases = [
            ("\"num.partitions\" = 6\n", Format::Toml),
            ("listen = \"127.0.0.1:9092\"\n", Format::Toml),
            ("# comment\n[section]\n", Format::Toml),
            ("cores = 2\n", Format::Toml),
            ("num.partitions=6\n", Format::Properties),
            ("log.dirs=/tmp/x\n", Format::Properties),
            ("listen=127.0.0.1:9092\n", Format::Properties),
            ("! comment\ncores = 2\n", Format::Properties),
            (KAFKA_FILE, Format::Properties),
        ];
        for (text, expected) in cases {
            assert_eq!(detect(Path::new("server.conf"), text), expected, "{text:?}");
        }
    }

    #[test]
    fn a_kafka_file_maps_known_keys_and_lists_the_rest() {
        let (config, ignored) = from_properties(KAFKA_FILE).unwrap();
        assert_eq!(config.node_id, 1);
        assert_eq!(config.num_partitions, 3);
        assert!(!config.auto_create_topics_enable);
        assert_eq!(config.data_dir, Path::new("/tmp/kraft-combined-logs"));
        assert_eq!(config.offsets_topic_replication_factor, 1);
        assert_eq!(config.process_roles.as_deref(), Some("broker,controller"));
        assert_eq!(
            config.inter_broker_listener_name.as_deref(),
            Some("PLAINTEXT")
        );
        assert_eq!(
            ignored,
            vec![
                "num.network.threads",
                "socket.send.buffer.bytes",
                "log.retention.hours",
            ]
        );
    }

    #[test]
    fn a_bad_value_names_its_key() {
        let err = from_properties("num.partitions=six").unwrap_err();
        assert!(err.contains("num.partitions"), "{err}");
        assert!(err.contains("six"), "{err}");
        let err = from_properties("auto.create.topics.enable=yes").unwrap_err();
        assert!(err.contains("auto.create.topics.enable"), "{err}");
    }

    #[test]
    fn log_dir_is_read_when_log_dirs_is_absent() {
        let (config, ignored) = from_properties("log.dir=/var/lib/kafka").unwrap();
        assert_eq!(config.data_dir, Path::new("/var/lib/kafka"));
        assert!(ignored.is_empty());
        let (config, ignored) = from_properties("log.dir=/a\nlog.dirs=/b").unwrap();
        assert_eq!(config.data_dir, Path::new("/b"));
        assert_eq!(ignored, vec!["log.dir"]);
    }

    #[test]
    fn empty_optional_values_are_unset() {
        let (config, _) = from_properties("advertised.listeners=\ncluster.id=  \n").unwrap();
        assert_eq!(config.advertised_listeners, None);
        assert_eq!(config.cluster_id_configured, None);
    }

    #[test]
    fn setting_names_are_the_serde_names() {
        let names = setting_names();
        assert!(names.contains(&"node.id"));
        assert!(names.contains(&"controller.quorum.voters"));
        assert!(names.contains(&"listen"));
        assert!(!names.contains(&"node_id"));
        assert!(!names.contains(&"write_tuning"));
    }
}
