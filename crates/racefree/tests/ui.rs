//! trybuild compile-fail tests pinning down the context and guard rules.
#![cfg(all(feature = "std", not(loom)))]

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
