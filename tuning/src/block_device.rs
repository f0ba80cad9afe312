//! Finds the physical disks behind a directory: mountinfo gives the filesystem's device
//! number, sysfs maps it to a disk, partitions go to their parent disk, and device-mapper
//! or md devices go to the disks they sit on (their `slaves`).

use std::path::{Component, Path, PathBuf};

use crate::host::{refusal_reason, HostFs};

/// Bound on dm-on-md-on-partition nesting, so a sysfs loop cannot recurse forever.
const STACK_DEPTH_MAX: usize = 8;

/// A whole disk whose request queue settings apply to the data dir.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockDisk {
    /// Kernel name, e.g. `nvme0n1`, `vda`.
    pub name: String,
    /// Host-absolute sysfs directory of the disk (contains `queue/`).
    pub sys_dir: PathBuf,
}

impl BlockDisk {
    pub fn queue_file(&self, file: &str) -> PathBuf {
        self.sys_dir.join("queue").join(file)
    }
}

/// One line of `/proc/self/mountinfo`, the fields we use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub major: u32,
    pub minor: u32,
    pub mount_point: PathBuf,
    pub fs_type: String,
    pub options: String,
}

/// Parses mountinfo, skipping malformed lines (a bad line must not hide the good ones).
pub fn parse_mountinfo(text: &str) -> Vec<Mount> {
    text.lines().filter_map(parse_mountinfo_line).collect()
}

fn parse_mountinfo_line(line: &str) -> Option<Mount> {
    let fields: Vec<&str> = line.split(' ').collect();
    let (major, minor) = fields.get(2)?.split_once(':')?;
    let separator = fields.iter().position(|f| *f == "-")?;
    Some(Mount {
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
        mount_point: PathBuf::from(unescape_octal(fields.get(4)?)),
        options: fields.get(5)?.to_string(),
        fs_type: fields.get(separator + 1)?.to_string(),
    })
}

/// mountinfo writes space, tab, newline and backslash as `\040`-style octal escapes.
fn unescape_octal(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escape = bytes
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|b| (b'0'..=b'7').contains(b)));
        match (bytes[i], escape) {
            (b'\\', Some(digits)) => {
                let value = digits
                    .iter()
                    .fold(0u32, |acc, d| acc * 8 + u32::from(d - b'0'));
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Removes `.` and `..` without touching the filesystem.
fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(part) => out.push(part),
            _ => {}
        }
    }
    out
}

/// The real path of `dir` on the running host, even if its last components do not exist
/// yet (the data dir may be created later, on the same filesystem as its parent).
fn real_path(host: &HostFs, dir: &Path) -> PathBuf {
    let absolute = normalize_lexically(dir);
    if !host.is_real() {
        return absolute;
    }
    let mut existing = absolute.clone();
    let mut missing = Vec::new();
    while !existing.exists() {
        match (
            existing.file_name().map(|n| n.to_os_string()),
            existing.parent(),
        ) {
            (Some(name), Some(parent)) => {
                missing.push(name);
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut path = std::fs::canonicalize(&existing).unwrap_or(existing);
    path.extend(missing.iter().rev());
    path
}

/// The mount that holds `dir`: the longest mount point that is a prefix, last one wins on ties.
pub fn mount_of(host: &HostFs, dir: &Path) -> Result<Mount, String> {
    let mountinfo = Path::new("/proc/self/mountinfo");
    let text = host
        .read(mountinfo)
        .map_err(|e| refusal_reason(mountinfo, &e))?;
    let path = real_path(host, dir);
    parse_mountinfo(&text)
        .into_iter()
        .filter(|m| path.starts_with(&m.mount_point))
        .fold(None::<Mount>, |best, m| match best {
            Some(b) if b.mount_point.components().count() > m.mount_point.components().count() => {
                Some(b)
            }
            _ => Some(m),
        })
        .ok_or_else(|| format!("no mount holds {}", path.display()))
}

/// The whole disks backing `dir`. Err explains why there are none (tmpfs, overlay, ...).
pub fn disks_of(host: &HostFs, dir: &Path) -> Result<Vec<BlockDisk>, String> {
    let mount = mount_of(host, dir)?;
    if mount.major == 0 {
        return Err(format!(
            "data dir is on {} at {} (no block device)",
            mount.fs_type,
            mount.mount_point.display()
        ));
    }
    let link = PathBuf::from(format!("/sys/dev/block/{}:{}", mount.major, mount.minor));
    let sys_dir = host
        .canonical(&link)
        .map_err(|e| refusal_reason(&link, &e))?;
    let mut disks = Vec::new();
    collect_disks(host, &sys_dir, 0, &mut disks)?;
    if disks.is_empty() {
        return Err(format!("no disk found under {}", sys_dir.display()));
    }
    Ok(disks)
}

fn collect_disks(
    host: &HostFs,
    sys_dir: &Path,
    depth: usize,
    disks: &mut Vec<BlockDisk>,
) -> Result<(), String> {
    if depth > STACK_DEPTH_MAX {
        return Err(format!(
            "block devices nest deeper than {STACK_DEPTH_MAX} at {}",
            sys_dir.display()
        ));
    }
    let disk_dir = if host.exists(&sys_dir.join("partition")) {
        sys_dir
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| sys_dir.to_path_buf())
    } else {
        sys_dir.to_path_buf()
    };
    let slaves = host.list_dir(&disk_dir.join("slaves")).unwrap_or_default();
    if slaves.is_empty() {
        let name = disk_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| format!("unnamed block device {}", disk_dir.display()))?;
        if !disks.iter().any(|d| d.name == name) {
            disks.push(BlockDisk {
                name,
                sys_dir: disk_dir,
            });
        }
        return Ok(());
    }
    for slave in slaves {
        let link = PathBuf::from("/sys/class/block").join(&slave);
        let slave_dir = host
            .canonical(&link)
            .map_err(|e| refusal_reason(&link, &e))?;
        collect_disks(host, &slave_dir, depth + 1, disks)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_mountinfo_with_escapes_and_optional_fields() {
        let text = "27 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw\n\
                    garbage line\n\
                    30 27 259:3 / /mnt/my\\040disk rw master:2 - xfs /dev/nvme0n1p3 rw\n";
        let mounts = parse_mountinfo(text);
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[1].mount_point, PathBuf::from("/mnt/my disk"));
        assert_eq!(mounts[1].fs_type, "xfs");
        assert_eq!((mounts[1].major, mounts[1].minor), (259, 3));
    }

    #[test]
    fn normalizes_dot_dot() {
        assert_eq!(
            normalize_lexically(Path::new("/a/b/../c/./d")),
            PathBuf::from("/a/c/d")
        );
    }
}
