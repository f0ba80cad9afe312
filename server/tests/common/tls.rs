//! Certificates for the security tests, made with the `openssl` command (installed by
//! `./.ci/test`): a test CA, a broker certificate for 127.0.0.1 and localhost, client
//! certificates, and one from an unrelated CA that must not verify. All in a temp dir that
//! lives as long as the [`TestPki`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use tempfile::TempDir;

use super::process::run_with_timeout;

/// How long one openssl command may take (key generation included).
const OPENSSL_TIMEOUT: Duration = Duration::from_secs(60);

pub struct TestPki {
    dir: TempDir,
}

impl TestPki {
    /// A CA, the broker's key and certificate in one PEM (`keystore`), and the CA alone
    /// (`ca`).
    pub fn new() -> TestPki {
        let dir = tempfile::Builder::new()
            .prefix("sluice-pki-")
            .tempdir()
            .expect("temp dir for certificates");
        let pki = TestPki { dir };
        pki.make_ca("ca", "/CN=Sluice Test CA");
        pki.make_ca("rogue-ca", "/CN=Rogue CA");
        let extensions = pki.path("server.ext");
        std::fs::write(
            &extensions,
            // Client use too: brokers present it to each other (inter-broker and controller
            // mutual TLS), as Kafka brokers' certificates usually allow.
            "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
        )
        .expect("write server.ext");
        pki.make_signed("server", "/CN=localhost", "ca", Some(&extensions));
        pki
    }

    /// A CA rotation as an operator does it, in place: a new CA; `ca()` then holds the old and
    /// the new CA (so both kinds of certificate verify during the change), and `keystore()` a
    /// broker certificate of the new CA (same names and uses). Certificates made before (the
    /// clients') still verify. Returns the new certificate's PEM.
    pub fn rotate_ca(&self) -> String {
        self.make_ca("ca2", "/CN=Sluice Test CA 2");
        self.make_signed(
            "server2",
            "/CN=localhost",
            "ca2",
            Some(&self.path("server.ext")),
        );
        let bundle = std::fs::read_to_string(self.ca()).expect("read the CA")
            + &std::fs::read_to_string(self.path("ca2.crt")).expect("read the new CA");
        replace(&self.ca(), &bundle);
        replace(
            &self.keystore(),
            &std::fs::read_to_string(self.path("server2.pem")).expect("read the new keystore"),
        );
        std::fs::read_to_string(self.path("server2.crt")).expect("read the new certificate")
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The CA certificate clients trust.
    pub fn ca(&self) -> PathBuf {
        self.path("ca.crt")
    }

    /// The broker's key and certificate in one PEM file (`ssl.keystore.location`).
    pub fn keystore(&self) -> PathBuf {
        self.path("server.pem")
    }

    /// A client certificate for `subject` (e.g. `/C=US/O=Sluice/OU=Eng/CN=alice`) signed by
    /// the test CA (or the rogue one); returns (certificate, key).
    pub fn client(&self, name: &str, subject: &str, rogue: bool) -> (PathBuf, PathBuf) {
        let extensions = self.path("client.ext");
        std::fs::write(&extensions, "extendedKeyUsage=clientAuth\n").expect("write client.ext");
        let ca = if rogue { "rogue-ca" } else { "ca" };
        self.make_signed(name, subject, ca, Some(&extensions));
        (
            self.path(&format!("{name}.crt")),
            self.path(&format!("{name}.key")),
        )
    }

    fn make_ca(&self, name: &str, subject: &str) {
        self.openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            subject,
            "-keyout",
            &self.file(&format!("{name}.key")),
            "-out",
            &self.file(&format!("{name}.crt")),
        ]);
    }

    fn make_signed(&self, name: &str, subject: &str, ca: &str, extensions: Option<&Path>) {
        let key = self.file(&format!("{name}.key"));
        let csr = self.file(&format!("{name}.csr"));
        let crt = self.file(&format!("{name}.crt"));
        self.openssl(&[
            "req", "-newkey", "rsa:2048", "-nodes", "-subj", subject, "-keyout", &key, "-out", &csr,
        ]);
        let mut args = vec![
            "x509".to_string(),
            "-req".into(),
            "-in".into(),
            csr,
            "-days".into(),
            "2".into(),
            "-CA".into(),
            self.file(&format!("{ca}.crt")),
            "-CAkey".into(),
            self.file(&format!("{ca}.key")),
            "-CAcreateserial".into(),
            "-out".into(),
            crt.clone(),
        ];
        if let Some(extensions) = extensions {
            args.push("-extfile".into());
            args.push(extensions.to_string_lossy().into_owned());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.openssl(&refs);
        let pem = std::fs::read_to_string(&key).expect("read key")
            + &std::fs::read_to_string(&crt).expect("read certificate");
        std::fs::write(self.path(&format!("{name}.pem")), pem).expect("write key+certificate");
    }

    fn file(&self, name: &str) -> String {
        self.path(name).to_string_lossy().into_owned()
    }

    fn openssl(&self, args: &[&str]) {
        let mut command = Command::new("openssl");
        command.args(args).current_dir(self.dir.path());
        let finished = run_with_timeout(&mut command, OPENSSL_TIMEOUT, "openssl");
        assert!(
            finished.status.success(),
            "openssl {}: {}",
            args.join(" "),
            finished.transcript()
        );
    }
}

/// Writes `path` whole at once (a temp file renamed over it), as a renewal script should: a
/// broker never reads half of it.
fn replace(path: &Path, contents: &str) {
    let temp = path.with_extension("new");
    std::fs::write(&temp, contents).expect("write the new file");
    std::fs::rename(&temp, path).expect("rename the new file into place");
}
