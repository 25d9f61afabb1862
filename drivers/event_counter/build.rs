// SPDX-License-Identifier: Apache-2.0
//
// Makes the application's bool Kconfig options visible to this crate as
// `cfg`s (`#[cfg(CONFIG_SMP)]`, ...). zephyr-lang-rust does this for its own
// `zephyr` crate only; src/backend.rs needs it to decide, at build time,
// whether the uniprocessor k_spinlock can be inlined.

/// The Kconfig options this crate tests with `cfg`. Declared for rustc's
/// `unexpected_cfgs` check: an option that is `n` is absent from the .config,
/// so nothing else would tell rustc that the name is legitimate.
const CFGS: &[&str] = &[
    "CONFIG_ARMV6_M_ARMV8_M_BASELINE",
    "CONFIG_ARMV7_M_ARMV8_M_MAINLINE",
    "CONFIG_SMP",
    "CONFIG_SPIN_VALIDATE",
];

fn main() {
    zephyr_build::export_bool_kconfig();
    for cfg in CFGS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    // export_bool_kconfig() asks to be rerun when DOTCONFIG, the variable,
    // changes, but its request for the file itself is misspelt
    // ("cargo-rerun-if-changed", zephyr-lang-rust 37dc7fa), so a Kconfig
    // change in the same build directory would keep stale cfgs. Ask here.
    if let Ok(dotconfig) = std::env::var("DOTCONFIG") {
        println!("cargo::rerun-if-changed={dotconfig}");
    }
}
