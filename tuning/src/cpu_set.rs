//! CPU sets as the kernel prints them: lists (`0-3,8`) and hex masks (`ff,00000001`).

use std::collections::BTreeSet;
use std::fmt;

/// Highest CPU number accepted from any input, so a corrupt file cannot make us allocate.
pub const CPU_INDEX_MAX: usize = 8191;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CpuSet(BTreeSet<usize>);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid CPU set {input:?}: {why}")]
pub struct CpuSetError {
    pub input: String,
    pub why: &'static str,
}

impl CpuSet {
    pub fn from_cpus(cpus: impl IntoIterator<Item = usize>) -> Self {
        Self(cpus.into_iter().collect())
    }

    /// Parses a CPU list such as `0-3,8` (the format of `/sys/devices/system/cpu/online`).
    pub fn parse_list(input: &str) -> Result<Self, CpuSetError> {
        let error = |why| CpuSetError {
            input: input.to_string(),
            why,
        };
        let mut cpus = BTreeSet::new();
        for part in input.trim().split(',').filter(|p| !p.is_empty()) {
            let (first, last) = match part.split_once('-') {
                Some((a, b)) => (a, b),
                None => (part, part),
            };
            let first: usize = first.trim().parse().map_err(|_| error("not a number"))?;
            let last: usize = last.trim().parse().map_err(|_| error("not a number"))?;
            if first > last {
                return Err(error("range runs backwards"));
            }
            if last > CPU_INDEX_MAX {
                return Err(error("CPU number too large"));
            }
            cpus.extend(first..=last);
        }
        Ok(Self(cpus))
    }

    /// Parses a hex mask such as `3` or `ff,00000001` (the format of `/proc/irq/N/smp_affinity`):
    /// comma-separated 32-bit groups, most significant first.
    pub fn parse_mask(input: &str) -> Result<Self, CpuSetError> {
        let error = |why| CpuSetError {
            input: input.to_string(),
            why,
        };
        let mut cpus = BTreeSet::new();
        let groups: Vec<&str> = input.trim().split(',').collect();
        for (index_from_low, group) in groups.iter().rev().enumerate() {
            let bits = u32::from_str_radix(group.trim(), 16).map_err(|_| error("not hex"))?;
            for bit in 0..32 {
                if bits & (1 << bit) != 0 {
                    let cpu = index_from_low * 32 + bit;
                    if cpu > CPU_INDEX_MAX {
                        return Err(error("CPU number too large"));
                    }
                    cpus.insert(cpu);
                }
            }
        }
        Ok(Self(cpus))
    }

    /// The hex mask format the kernel accepts in `smp_affinity`.
    pub fn to_mask(&self) -> String {
        let top = self.0.iter().next_back().copied().unwrap_or(0);
        let group_count = top / 32 + 1;
        let mut groups = vec![0u32; group_count];
        for &cpu in &self.0 {
            groups[cpu / 32] |= 1 << (cpu % 32);
        }
        let mut text = format!("{:x}", groups[group_count - 1]);
        for group in groups[..group_count - 1].iter().rev() {
            text.push_str(&format!(",{group:08x}"));
        }
        text
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_subset(&self, other: &CpuSet) -> bool {
        self.0.is_subset(&other.0)
    }

    pub fn first(&self) -> Option<usize> {
        self.0.iter().next().copied()
    }

    pub fn iter(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().copied()
    }
}

impl fmt::Display for CpuSet {
    /// Prints the list format (`0-3,8`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cpus: Vec<usize> = self.0.iter().copied().collect();
        let mut parts = Vec::new();
        let mut i = 0;
        while i < cpus.len() {
            let mut j = i;
            while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
                j += 1;
            }
            if i == j {
                parts.push(cpus[i].to_string());
            } else {
                parts.push(format!("{}-{}", cpus[i], cpus[j]));
            }
            i = j + 1;
        }
        write!(f, "{}", parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_round_trips() -> Result<(), CpuSetError> {
        let set = CpuSet::parse_list("0-3,8,10-11")?;
        assert_eq!(set.len(), 7);
        assert_eq!(set.to_string(), "0-3,8,10-11");
        Ok(())
    }

    #[test]
    fn mask_round_trips_across_groups() -> Result<(), CpuSetError> {
        let set = CpuSet::parse_mask("1,00000003")?;
        assert_eq!(set, CpuSet::from_cpus([0, 1, 32]));
        assert_eq!(set.to_mask(), "1,00000003");
        assert_eq!(CpuSet::from_cpus([0]).to_mask(), "1");
        Ok(())
    }

    #[test]
    fn rejects_garbage() {
        assert!(CpuSet::parse_list("3-1").is_err());
        assert!(CpuSet::parse_list("x").is_err());
        assert!(CpuSet::parse_mask("zz").is_err());
        assert!(CpuSet::parse_list("0-99999").is_err());
    }
}
