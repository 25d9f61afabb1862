//! How long a blocking call may wait (Zephyr `k_timeout_t`).

/// How long a blocking call may wait, mirroring Zephyr's `K_NO_WAIT`, `K_FOREVER`, `K_MSEC(n)`
/// and `K_TICKS(n)`.
///
/// Ticks are the kernel's own resolution (`CONFIG_SYS_CLOCK_TICKS_PER_SEC` on Zephyr; the host
/// backends count [`HOST_TICKS_PER_SEC`](crate::backend::std::HOST_TICKS_PER_SEC)). A C
/// `k_timeout_t` crosses into Rust as ticks, so a driver call waits exactly as long as the
/// kernel would, not rounded to a millisecond.
///
/// A call that gives up returns [`Error::WouldBlock`](crate::Error::WouldBlock) for
/// [`NoWait`](Timeout::NoWait) and [`Error::TimedOut`](crate::Error::TimedOut) otherwise,
/// unless its docs say differently.
///
/// # Examples
///
/// ```
/// use racefree::Timeout;
///
/// assert_eq!(Timeout::from_millis(0), Timeout::NoWait);
/// assert_eq!(Timeout::from_millis(5), Timeout::Millis(5));
/// assert!(Timeout::NoWait.is_no_wait());
/// assert_eq!(Timeout::from_ticks(0), Timeout::NoWait);
/// // At 10 kHz, 1 ms is 10 ticks; 1 tick stays 1 tick.
/// assert_eq!(Timeout::Millis(1).to_ticks(10_000), Some(10));
/// assert_eq!(Timeout::Ticks(1).to_ticks(10_000), Some(1));
/// assert_eq!(Timeout::Forever.to_ticks(10_000), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// Do not wait: check once (`K_NO_WAIT`).
    NoWait,
    /// Wait as long as it takes (`K_FOREVER`).
    Forever,
    /// Wait at most this many milliseconds (`K_MSEC(n)`), rounded up to whole ticks.
    Millis(u32),
    /// Wait at most this many kernel ticks (`K_TICKS(n)`).
    Ticks(u64),
}

impl Timeout {
    /// `Millis(ms)`, or `NoWait` for 0.
    pub const fn from_millis(ms: u32) -> Self {
        if ms == 0 {
            Timeout::NoWait
        } else {
            Timeout::Millis(ms)
        }
    }

    /// `Ticks(ticks)`, or `NoWait` for 0.
    pub const fn from_ticks(ticks: u64) -> Self {
        if ticks == 0 {
            Timeout::NoWait
        } else {
            Timeout::Ticks(ticks)
        }
    }

    /// True for `NoWait`, `Millis(0)` and `Ticks(0)`.
    pub const fn is_no_wait(self) -> bool {
        matches!(self, Timeout::NoWait | Timeout::Millis(0) | Timeout::Ticks(0))
    }

    /// The wait in ticks of a clock running at `ticks_per_sec`, milliseconds rounded up as
    /// `K_MSEC()` does; `None` for `Forever`.
    pub const fn to_ticks(self, ticks_per_sec: u32) -> Option<u64> {
        match self {
            Timeout::NoWait => Some(0),
            Timeout::Forever => None,
            Timeout::Millis(ms) => Some((ms as u64 * ticks_per_sec as u64).div_ceil(1000)),
            Timeout::Ticks(ticks) => Some(ticks),
        }
    }
}
