//! A connection that knows the broker's versions: typed calls for any `kafka-protocol`
//! request, at the highest version both sides speak.

use kafka_protocol::protocol::{Request, VersionRange};

use crate::conn::{ConnectOptions, Connection};
use crate::error::Result;
use crate::versions::BrokerVersions;

/// One broker connection with the broker's ApiVersions table.
pub struct Client {
    conn: Connection,
    versions: BrokerVersions,
}

impl Client {
    /// Connects (TLS and SASL as `options` say) and asks the broker which API versions it
    /// serves (a SASL connection asked already, before authenticating).
    pub fn connect(addr: &str, options: &ConnectOptions) -> Result<Self> {
        let mut conn = Connection::connect(addr, options)?;
        let versions = match conn.take_versions() {
            Some(versions) => versions,
            None => BrokerVersions::request(&mut conn, options.client_id)?,
        };
        Ok(Self { conn, versions })
    }

    pub fn addr(&self) -> &str {
        self.conn.addr()
    }

    pub fn versions(&self) -> &BrokerVersions {
        &self.versions
    }

    /// The connection, for calls at a version the caller chose, or raw frames.
    pub fn connection(&mut self) -> &mut Connection {
        &mut self.conn
    }

    /// (api key, min, max) of every API the broker serves, by key.
    pub fn broker_versions(&self) -> Vec<(i16, i16, i16)> {
        self.versions.all()
    }

    /// The version to use for `R`, given the versions the caller's code handles.
    pub fn version_for<R: Request>(&self, ours: VersionRange) -> Result<i16> {
        self.versions.version_for::<R>(ours)
    }

    pub fn supports<R: Request>(&self, ours: VersionRange) -> bool {
        self.version_for::<R>(ours).is_ok()
    }

    /// Negotiates a version within `ours`, builds the request for it (fields differ between
    /// versions), sends it and waits for the response.
    pub fn call<R: Request>(
        &mut self,
        ours: VersionRange,
        build: impl FnOnce(i16) -> R,
    ) -> Result<R::Response> {
        let version = self.version_for::<R>(ours)?;
        let request = build(version);
        self.conn.call(&request, version)
    }
}
