mod common;
use common::*;
use event_counter::*;
use std::time::Duration;

#[test]
fn three_waiters_close() {
    let (rig, _mock) = rig_with_mock(4);
    let dev = rig.dev().clone();
    dev.open(&ctx()).unwrap();
    let hs: Vec<_> = (0..3).map(|_| { let d = dev.clone(); std::thread::spawn(move || d.wait(&ctx(), Timeout::Forever)) }).collect();
    std::thread::sleep(Duration::from_millis(50));
    dev.on_event(1);
    std::thread::sleep(Duration::from_millis(50));
    let r = dev.close(&ctx(), Timeout::Millis(500), ClosePolicy::FailIfBusy);
    println!("close: {r:?}");
    let finished: Vec<_> = hs.iter().map(|h| h.is_finished()).collect();
    println!("finished: {finished:?}");
    dev.on_event(2);
    std::mem::forget(hs); std::mem::forget(rig);
}
