//! How long a blocking call may wait (Zephyr `k_timeout_t`).

/// How long a blocking call may wait, mirroring Zephyr's `K_NO_WAIT`, `K_FOREVER` and `K_MSEC(n)`.
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
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Timeout {
    /// Do not wait: check once (`K_NO_WAIT`).
    NoWait,
    /// Wait as long as it takes (`K_FOREVER`).
    Forever,
    /// Wait at most this many milliseconds (`K_MSEC(n)`).
    Millis(u32),
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

    /// True for `NoWait` and `Millis(0)`.
    pub const fn is_no_wait(self) -> bool {
        matches!(self, Timeout::NoWait | Timeout::Millis(0))
    }
}
