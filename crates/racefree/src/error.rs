//! One error type, one-to-one with the Zephyr errnos the building blocks return.

use core::fmt;

/// Positive Zephyr errno values (`lib/libc/minimal/include/errno.h`).
///
/// C shims return these negated, as Zephyr does.
pub mod errno {
    /// Bad file number: the object is closed.
    pub const EBADF: i32 = 9;
    /// Try again: the operation would block.
    pub const EAGAIN: i32 = 11;
    /// Device or resource busy.
    pub const EBUSY: i32 = 16;
    /// No such device: it is gone.
    pub const ENODEV: i32 = 19;
    /// Invalid argument or inconsistent state.
    pub const EINVAL: i32 = 22;
    /// Timed out (Zephyr value, not Linux's 110).
    pub const ETIMEDOUT: i32 = 116;
    /// Operation already in progress (Zephyr value, not Linux's 114).
    pub const EALREADY: i32 = 120;
}

/// Every failure of this crate. The discriminant is the negative Zephyr errno.
///
/// # Examples
///
/// ```
/// use racefree::{errno, Error};
///
/// assert_eq!(Error::Busy.to_errno(), -errno::EBUSY);
/// assert_eq!(Error::from_errno(-116), Some(Error::TimedOut));
/// assert_eq!(Error::from_errno(errno::EALREADY), Some(Error::Already));
/// assert_eq!(Error::from_errno(0), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(i32)]
pub enum Error {
    /// The object is in use (`-EBUSY`): a lock is held, operations are in flight, a device is attached.
    Busy = -errno::EBUSY,
    /// The resource disappeared (`-ENODEV`): revoked, hot-unplugged.
    Gone = -errno::ENODEV,
    /// The object is not open, closing or closed (`-EBADF`).
    Closed = -errno::EBADF,
    /// A finite timeout expired (`-ETIMEDOUT`).
    TimedOut = -errno::ETIMEDOUT,
    /// [`Timeout::NoWait`](crate::Timeout::NoWait) and the operation would have blocked (`-EAGAIN`).
    WouldBlock = -errno::EAGAIN,
    /// Bad argument or inconsistent state (`-EINVAL`).
    Invalid = -errno::EINVAL,
    /// The requested transition is already under way (`-EALREADY`).
    Already = -errno::EALREADY,
}

impl Error {
    /// The negative errno a C caller expects.
    pub const fn to_errno(self) -> i32 {
        self as i32
    }

    /// Maps an errno back; accepts the negative (return-value) or positive (`errno`) form.
    ///
    /// Returns `None` for 0 and for codes this crate never produces.
    pub const fn from_errno(errno: i32) -> Option<Error> {
        let positive = if errno < 0 {
            errno.wrapping_neg()
        } else {
            errno
        };
        match positive {
            errno::EBUSY => Some(Error::Busy),
            errno::ENODEV => Some(Error::Gone),
            errno::EBADF => Some(Error::Closed),
            errno::ETIMEDOUT => Some(Error::TimedOut),
            errno::EAGAIN => Some(Error::WouldBlock),
            errno::EINVAL => Some(Error::Invalid),
            errno::EALREADY => Some(Error::Already),
            _ => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            Error::Busy => "resource busy",
            Error::Gone => "device gone",
            Error::Closed => "not open",
            Error::TimedOut => "timed out",
            Error::WouldBlock => "would block",
            Error::Invalid => "invalid argument or inconsistent state",
            Error::Already => "already in progress",
        };
        write!(f, "{} ({})", text, self.to_errno())
    }
}

impl core::error::Error for Error {}

/// Result with [`Error`] as the default error type.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    const ALL: [Error; 7] = [
        Error::Busy,
        Error::Gone,
        Error::Closed,
        Error::TimedOut,
        Error::WouldBlock,
        Error::Invalid,
        Error::Already,
    ];

    #[test]
    fn errno_values_match_zephyr() {
        assert_eq!(Error::Busy.to_errno(), -16);
        assert_eq!(Error::Gone.to_errno(), -19);
        assert_eq!(Error::Closed.to_errno(), -9);
        assert_eq!(Error::TimedOut.to_errno(), -116);
        assert_eq!(Error::WouldBlock.to_errno(), -11);
        assert_eq!(Error::Invalid.to_errno(), -22);
        assert_eq!(Error::Already.to_errno(), -120);
    }

    #[test]
    fn round_trip_both_signs() {
        for e in ALL {
            assert_eq!(Error::from_errno(e.to_errno()), Some(e));
            assert_eq!(Error::from_errno(-e.to_errno()), Some(e));
        }
        assert_eq!(Error::from_errno(0), None);
        assert_eq!(Error::from_errno(5), None);
        assert_eq!(Error::from_errno(i32::MIN), None);
    }

    #[test]
    fn display_names_the_errno() {
        assert_eq!(Error::Busy.to_string(), "resource busy (-16)");
        let e: &dyn core::error::Error = &Error::Gone;
        assert!(e.to_string().contains("-19"));
    }
}
