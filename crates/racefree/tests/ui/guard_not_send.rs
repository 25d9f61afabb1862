// A guard must be released where it was taken.
use racefree::{lock_class, SpinLock, StdSpin};

fn main() {
    static L: std::sync::OnceLock<SpinLock<u32, StdSpin>> = std::sync::OnceLock::new();
    let l = L.get_or_init(|| SpinLock::new(0, lock_class!("ui")));
    let g = l.lock();
    std::thread::spawn(move || drop(g)).join().unwrap();
}
