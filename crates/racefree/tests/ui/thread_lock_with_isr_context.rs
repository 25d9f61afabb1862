// A thread-only (sleeping) lock cannot be taken with ISR evidence.
use racefree::{lock_class, with_simulated_isr, Mutex, StdMutex};

fn main() {
    let m: Mutex<u32, StdMutex> = Mutex::new(0, lock_class!("ui"));
    with_simulated_isr(|isr| {
        let _g = m.lock(isr);
    });
}
