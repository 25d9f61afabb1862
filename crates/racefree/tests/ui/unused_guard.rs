// Dropping a guard right away is almost always a bug: `#[must_use]` flags it.
#![deny(unused_must_use)]
use racefree::{lock_class, SpinLock, StdSpin};

fn main() {
    let l: SpinLock<u32, StdSpin> = SpinLock::new(0, lock_class!("ui"));
    l.lock();
}
