//! Run-time settings and their validation at the C boundary.

use racefree::{ClosePolicy, Error, Result};

/// Which GPIO edges are events. Values match C's `enum event_counter_edge`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Edge {
    /// Low to high.
    Rising = 0,
    /// High to low.
    Falling = 1,
    /// Both.
    Both = 2,
}

/// What a full ring does. Values match C's `enum event_counter_overflow`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Overflow {
    /// Keep the oldest timestamps, count the new one as dropped.
    DropNewest = 0,
    /// Replace the oldest timestamp, count it as dropped.
    DropOldest = 1,
}

/// Validated settings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    /// Edge selection (GPIO sources).
    pub edge: Edge,
    /// Ring overflow policy.
    pub overflow: Overflow,
    /// Whether events are counted.
    pub enabled: bool,
}

impl Settings {
    /// Settings at init: devicetree's edge, drop newest, enabled.
    pub const fn with_edge(edge: Edge) -> Self {
        Settings { edge, overflow: Overflow::DropNewest, enabled: true }
    }
}

/// Settings as C passes them (`struct event_counter_settings`): plain
/// integers, so that out-of-range values arrive here and get `-EINVAL`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RawSettings {
    /// `enum event_counter_edge`.
    pub edge: u32,
    /// `enum event_counter_overflow`.
    pub overflow: u32,
    /// Enable state.
    pub enabled: bool,
}

impl Edge {
    /// From C's enum value; [`Error::Invalid`] when out of range.
    pub const fn from_raw(raw: u32) -> Result<Self> {
        match raw {
            0 => Ok(Edge::Rising),
            1 => Ok(Edge::Falling),
            2 => Ok(Edge::Both),
            _ => Err(Error::Invalid),
        }
    }
}

impl Overflow {
    /// From C's enum value; [`Error::Invalid`] when out of range.
    pub const fn from_raw(raw: u32) -> Result<Self> {
        match raw {
            0 => Ok(Overflow::DropNewest),
            1 => Ok(Overflow::DropOldest),
            _ => Err(Error::Invalid),
        }
    }
}

impl TryFrom<RawSettings> for Settings {
    type Error = Error;

    fn try_from(raw: RawSettings) -> Result<Self> {
        Ok(Settings {
            edge: Edge::from_raw(raw.edge)?,
            overflow: Overflow::from_raw(raw.overflow)?,
            enabled: raw.enabled,
        })
    }
}

impl From<Settings> for RawSettings {
    fn from(s: Settings) -> Self {
        RawSettings { edge: s.edge as u32, overflow: s.overflow as u32, enabled: s.enabled }
    }
}

/// A close policy as C passes it (`enum event_counter_close_policy`).
pub struct CloseRequest;

impl CloseRequest {
    /// From C's enum value; [`Error::Invalid`] when out of range.
    pub const fn policy_from_raw(raw: u32) -> Result<ClosePolicy> {
        match raw {
            0 => Ok(ClosePolicy::FailIfBusy),
            1 => Ok(ClosePolicy::Proceed),
            _ => Err(Error::Invalid),
        }
    }

    /// A timeout as C passes it: `k_timeout_t.ticks` (-1 `K_FOREVER`, 0
    /// `K_NO_WAIT`, a positive relative tick count). Anything below -1 is an
    /// absolute timeout (`K_TIMEOUT_ABS_*`), which no call accepts:
    /// [`Error::Invalid`].
    pub const fn timeout_from_ticks(ticks: i64) -> Result<racefree::Timeout> {
        match ticks {
            -1 => Ok(racefree::Timeout::Forever),
            0 => Ok(racefree::Timeout::NoWait),
            1.. => Ok(racefree::Timeout::Ticks(ticks as u64)),
            _ => Err(Error::Invalid),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_out_of_range_value_is_invalid() {
        assert_eq!(Edge::from_raw(3), Err(Error::Invalid));
        assert_eq!(Overflow::from_raw(2), Err(Error::Invalid));
        assert_eq!(CloseRequest::policy_from_raw(2), Err(Error::Invalid));
        assert_eq!(CloseRequest::timeout_from_ticks(-2), Err(Error::Invalid));
        assert_eq!(CloseRequest::timeout_from_ticks(i64::MIN), Err(Error::Invalid));
    }

    #[test]
    fn c_timeouts_keep_their_ticks() {
        use racefree::Timeout;
        assert_eq!(CloseRequest::timeout_from_ticks(-1), Ok(Timeout::Forever));
        assert_eq!(CloseRequest::timeout_from_ticks(0), Ok(Timeout::NoWait));
        assert_eq!(CloseRequest::timeout_from_ticks(1), Ok(Timeout::Ticks(1)));
        assert_eq!(CloseRequest::timeout_from_ticks(1 << 40), Ok(Timeout::Ticks(1 << 40)));
    }

    #[test]
    fn raw_round_trip() {
        for edge in 0..3 {
            for overflow in 0..2 {
                for enabled in [false, true] {
                    let raw = RawSettings { edge, overflow, enabled };
                    let s = Settings::try_from(raw).unwrap();
                    assert_eq!(RawSettings::from(s), raw);
                }
            }
        }
    }
}
