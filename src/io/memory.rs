//! How much memory is left, so that sizes read from files and flags are refused up
//! front instead of aborting an allocation.

/// The memory this process may still allocate, in bytes (Linux): the least of the
/// system's `MemAvailable`, the address-space limit (`ulimit -v`) less what the process
/// already maps, and the cgroup's `memory.max` less its `memory.current` (containers).
/// `None` where none of these can be read (other systems).
///
/// ```
/// if let Some(bytes) = rbig::io::available_memory() {
///     assert!(bytes > 0);
/// }
/// ```
pub fn available_memory() -> Option<u64> {
    let field = |text: &str, key: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        line[key.len()..].split_whitespace().next()?.parse().ok()
    };
    let system =
        std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| field(&t, "MemAvailable:")).map(|k| k * 1024);
    let address_space = (|| {
        let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
        let limit = field(&limits, "Max address space")?; // "unlimited" does not parse
        let mapped = field(&std::fs::read_to_string("/proc/self/status").ok()?, "VmSize:")? * 1024;
        // Each worker thread's first allocation reserves a 64 MiB malloc arena (glibc):
        // address space the threads take before any of it holds data.
        let arenas = (64u64 << 20) * rayon::current_num_threads() as u64;
        Some(limit.saturating_sub(mapped).saturating_sub(arenas))
    })();
    let cgroup = (|| {
        let read =
            |name: &str| std::fs::read_to_string(format!("/sys/fs/cgroup/{name}")).ok()?.trim().parse::<u64>().ok();
        Some(read("memory.max")?.saturating_sub(read("memory.current").unwrap_or(0)))
    })();
    [system, address_space, cgroup].into_iter().flatten().min()
}
