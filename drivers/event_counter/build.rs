// SPDX-License-Identifier: Apache-2.0
//
// Makes the application's bool Kconfig options visible to this crate as
// `cfg`s (`#[cfg(CONFIG_SMP)]`, ...). zephyr-lang-rust does this for its own
// `zephyr` crate only. src/shim.rs tests `CONFIG_SMP`; src/ffi.rs
// `CONFIG_PM_DEVICE` and `CONFIG_PM_DEVICE_RUNTIME`; src/backend.rs tests
// `event_counter_inline_spin`, decided below, and `CONFIG_EVENT_COUNTER_LOCKDEP`
// (src/lockdep.rs also `CONFIG_EVENT_COUNTER_LOCKDEP_PANIC`).

/// The Kconfig options this crate tests with `cfg`. Declared for rustc's
/// `unexpected_cfgs` check: an option that is `n` is absent from the .config,
/// so nothing else would tell rustc that the name is legitimate.
const CFGS: &[&str] = &[
    "CONFIG_SMP",
    "CONFIG_EVENT_COUNTER_LOCKDEP",
    "CONFIG_EVENT_COUNTER_LOCKDEP_PANIC",
    "CONFIG_PM_DEVICE",
    "CONFIG_PM_DEVICE_RUNTIME",
];

/// Set when `k_spin_lock()` is exactly `arch_irq_lock()` on ARMv7-M/ARMv8-M
/// Mainline, so that src/backend.rs may inline it (see its module `spin`).
/// The one place on the Rust side that decides it; event_counter.c mirrors
/// the test with the preprocessor, and a disagreement fails the link.
const INLINE_SPIN: &str = "event_counter_inline_spin";

fn inline_spin(dotconfig: &str) -> bool {
    let set = |option: &str| {
        dotconfig
            .lines()
            .any(|line| line.strip_prefix(option) == Some("=y"))
    };
    std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("arm")
        && set("CONFIG_ARMV7_M_ARMV8_M_MAINLINE")
        && !set("CONFIG_ARMV6_M_ARMV8_M_BASELINE")
        && !set("CONFIG_SMP")
        && !set("CONFIG_SPIN_VALIDATE")
}

fn main() {
    zephyr_build::export_bool_kconfig();
    for cfg in CFGS.iter().chain([&INLINE_SPIN]) {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    // export_bool_kconfig() asks to be rerun when DOTCONFIG, the variable,
    // changes, but its request for the file itself is misspelt
    // ("cargo-rerun-if-changed", zephyr-lang-rust 37dc7fa), so a Kconfig
    // change in the same build directory would keep stale cfgs. Ask here.
    if let Ok(path) = std::env::var("DOTCONFIG") {
        println!("cargo::rerun-if-changed={path}");
        let dotconfig = std::fs::read_to_string(&path).unwrap_or_default();
        if inline_spin(&dotconfig) {
            println!("cargo::rustc-cfg={INLINE_SPIN}");
        }
    }
}
