//! The timestamp ring filled in interrupt context.
//!
//! A full ring never corrupts and never loses a count: depending on the
//! [`Overflow`] policy the new timestamp, or the oldest one, is counted as
//! dropped. The ring itself is not synchronised; the device keeps it under
//! its ISR lock.

use core::ptr::NonNull;

use crate::settings::Overflow;

/// One captured event. Same layout as C's `struct event_counter_event`.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// Number of the event since the device was initialised, from 0.
    pub sequence: u32,
    /// Cycle counter when the interrupt was handled.
    pub cycles: u32,
}

/// Fixed-capacity FIFO of [`Event`]s over storage the driver does not own
/// (on Zephyr, a per-instance array sized by devicetree's `capture-depth`).
///
/// # Invariants
/// `storage` points to `capacity` valid, exclusively owned `Event`s for as
/// long as the ring exists; `len <= capacity`; `head < capacity` when
/// `capacity > 0`.
pub struct EventRing {
    storage: NonNull<Event>,
    capacity: u32,
    head: u32,
    len: u32,
}

// SAFETY: the ring exclusively owns its storage (type invariant), so moving it
// to another context moves that ownership with it.
unsafe impl Send for EventRing {}

impl EventRing {
    /// A ring over a static array.
    pub fn new(storage: &'static mut [Event]) -> Self {
        let capacity = u32::try_from(storage.len()).unwrap_or(u32::MAX);
        let start = NonNull::from(storage).cast::<Event>();
        // SAFETY: a `&'static mut` slice is valid and exclusively ours forever,
        // and `capacity` never exceeds its length.
        unsafe { Self::from_raw(start, capacity) }
    }

    /// A ring over raw storage, such as a C array.
    ///
    /// # Safety
    /// - `storage` points to `capacity` `Event`s, valid for reads and writes
    ///   for the whole life of the ring;
    /// - nothing else accesses them while the ring exists.
    pub unsafe fn from_raw(storage: NonNull<Event>, capacity: u32) -> Self {
        EventRing { storage, capacity, head: 0, len: 0 }
    }

    /// Maximum number of events held.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Events held now.
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether no event is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds an event. Returns `true` if a timestamp was dropped to do so
    /// (the new one under [`Overflow::DropNewest`], the oldest under
    /// [`Overflow::DropOldest`]).
    ///
    /// Interrupt path: the common case (room left) tests one condition. A
    /// zero-capacity ring is always full, so it needs no test of its own
    /// there; it drops every event in the full branch.
    #[inline]
    pub fn push(&mut self, event: Event, overflow: Overflow) -> bool {
        if self.len == self.capacity {
            match overflow {
                Overflow::DropNewest => return true,
                Overflow::DropOldest if self.capacity == 0 => return true,
                Overflow::DropOldest => {
                    self.write(self.head, event);
                    self.head = self.next(self.head);
                    return true;
                }
            }
        }
        // SAFETY: `len <= capacity` (type invariant) and `len != capacity`
        // (just tested), so `capacity > 0`: the compiler may then divide
        // without testing for zero.
        unsafe { core::hint::assert_unchecked(self.len < self.capacity) };
        let tail = (self.head + self.len) % self.capacity;
        self.write(tail, event);
        self.len += 1;
        false
    }

    /// Moves up to `out.len()` of the oldest events into `out`; returns how many.
    pub fn pop_into(&mut self, out: &mut [Event]) -> u32 {
        let n = (out.len() as u64).min(u64::from(self.len)) as u32;
        for slot in out.iter_mut().take(n as usize) {
            *slot = self.read(self.head);
            self.head = self.next(self.head);
        }
        self.len -= n;
        n
    }

    fn next(&self, index: u32) -> u32 {
        if index + 1 == self.capacity {
            0
        } else {
            index + 1
        }
    }

    fn write(&mut self, index: u32, event: Event) {
        debug_assert!(index < self.capacity);
        // SAFETY: `index < capacity` and the storage is valid and ours (type invariant).
        unsafe { self.storage.as_ptr().add(index as usize).write(event) }
    }

    fn read(&self, index: u32) -> Event {
        debug_assert!(index < self.capacity);
        // SAFETY: `index < capacity` and the storage is valid and ours (type invariant).
        unsafe { self.storage.as_ptr().add(index as usize).read() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A ring over `storage`, which the caller keeps alive for as long as
    /// the ring is used (no leak, so Miri stays quiet).
    fn ring(storage: &mut [Event]) -> EventRing {
        let start = NonNull::new(storage.as_mut_ptr()).unwrap();
        // SAFETY: `storage` outlives the ring in every test below and is not
        // touched while the ring exists.
        unsafe { EventRing::from_raw(start, storage.len() as u32) }
    }

    fn storage(capacity: usize) -> Vec<Event> {
        vec![Event::default(); capacity]
    }

    fn ev(sequence: u32) -> Event {
        Event { sequence, cycles: sequence * 10 }
    }

    #[test]
    fn fifo_order_and_wraparound() {
        let mut buf = storage(3);
        let mut r = ring(&mut buf);
        let mut out = [Event::default(); 2];
        for round in 0..10u32 {
            assert!(!r.push(ev(2 * round), Overflow::DropNewest));
            assert!(!r.push(ev(2 * round + 1), Overflow::DropNewest));
            assert_eq!(r.pop_into(&mut out), 2);
            assert_eq!(out, [ev(2 * round), ev(2 * round + 1)]);
        }
        assert!(r.is_empty());
    }

    #[test]
    fn drop_newest_keeps_oldest() {
        let mut buf = storage(2);
        let mut r = ring(&mut buf);
        assert!(!r.push(ev(0), Overflow::DropNewest));
        assert!(!r.push(ev(1), Overflow::DropNewest));
        assert!(r.push(ev(2), Overflow::DropNewest));
        let mut out = [Event::default(); 4];
        assert_eq!(r.pop_into(&mut out), 2);
        assert_eq!(&out[..2], &[ev(0), ev(1)]);
    }

    #[test]
    fn drop_oldest_keeps_newest() {
        let mut buf = storage(2);
        let mut r = ring(&mut buf);
        for i in 0..5 {
            let dropped = r.push(ev(i), Overflow::DropOldest);
            assert_eq!(dropped, i >= 2);
        }
        let mut out = [Event::default(); 4];
        assert_eq!(r.pop_into(&mut out), 2);
        assert_eq!(&out[..2], &[ev(3), ev(4)]);
    }

    #[test]
    fn zero_capacity_drops_everything() {
        let mut buf = storage(0);
        let mut r = ring(&mut buf);
        assert!(r.push(ev(0), Overflow::DropOldest));
        assert!(r.push(ev(1), Overflow::DropNewest));
        assert_eq!(r.pop_into(&mut [Event::default(); 1]), 0);
    }
}
