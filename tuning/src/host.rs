//! `HostFs`: every read and write of host state goes through here, relative to a root
//! directory, so tests can point the tuner at a fake `/proc` + `/sys` tree in a temp dir.

use std::fs;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// Reads and writes host files (`/proc`, `/sys`) below `root`.
/// `root` is `/` on a real host and a temp dir in tests.
#[derive(Debug, Clone)]
pub struct HostFs {
    root: PathBuf,
}

impl HostFs {
    /// The running host.
    pub fn real() -> Self {
        Self {
            root: PathBuf::from("/"),
        }
    }

    /// A host whose `/` is `root` (a fake tree in tests).
    pub fn with_root(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    /// True when this is the running host rather than a fake tree.
    pub fn is_real(&self) -> bool {
        self.root == Path::new("/")
    }

    /// Maps a host-absolute path (`/proc/sys/...`) to the file under `root`.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        let relative: PathBuf = path
            .components()
            .filter(|c| !matches!(c, Component::RootDir | Component::Prefix(_)))
            .collect();
        self.root.join(relative)
    }

    /// Reads a small text file, trimmed of surrounding whitespace.
    pub fn read(&self, path: &Path) -> io::Result<String> {
        Ok(fs::read_to_string(self.resolve(path))?.trim().to_string())
    }

    /// Writes `value` the way `echo value > path` does (sysfs and procfs accept one write).
    pub fn write(&self, path: &Path, value: &str) -> io::Result<()> {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(self.resolve(path))?;
        file.write_all(format!("{value}\n").as_bytes())
    }

    pub fn exists(&self, path: &Path) -> bool {
        self.resolve(path).exists()
    }

    /// Entry names of a directory, sorted so output is stable.
    pub fn list_dir(&self, path: &Path) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(self.resolve(path))? {
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        names.sort();
        Ok(names)
    }

    /// Resolves symlinks (sysfs is full of them) and returns a host-absolute path.
    pub fn canonical(&self, path: &Path) -> io::Result<PathBuf> {
        let real = fs::canonicalize(self.resolve(path))?;
        let root = fs::canonicalize(&self.root)?;
        match real.strip_prefix(&root) {
            Ok(inside) => Ok(Path::new("/").join(inside)),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("{} escapes the host root", path.display()),
            )),
        }
    }
}

/// Why a host refused a read or write, in words an operator acts on.
pub fn refusal_reason(path: &Path, error: &io::Error) -> String {
    let what = match error.raw_os_error() {
        Some(libc::ENOENT) => "not present on this host",
        Some(libc::EACCES) | Some(libc::EPERM) => "permission denied (container or no root)",
        Some(libc::EROFS) => "read-only filesystem (container?)",
        Some(libc::EINVAL) => "kernel rejected the value",
        Some(libc::EIO) => "kernel refused (kernel-managed IRQ or device?)",
        _ => return format!("{}: {error}", path.display()),
    };
    format!("{}: {what}", path.display())
}
