// Thread-context evidence cannot migrate to another thread (or an ISR).
use racefree::{StdProbe, ThreadContext};

fn main() {
    let ctx = ThreadContext::current::<StdProbe>().unwrap();
    std::thread::spawn(move || drop(ctx)).join().unwrap();
}
