# SPDX-License-Identifier: Apache-2.0
#
# How the driver's Rust half reaches the application's link.
#
# The Rust half must be in the application's one Rust staticlib (librustapp.a;
# zephyr-lang-rust builds one per image). So:
#  - an application with its own `rustapp` crate depends on
#    event-counter-zephyr and calls event_counter_rust_application() (below)
#    where it would call rust_cargo_application();
#  - any other application (C, ztest) needs nothing: at the end of its
#    CMakeLists.txt the module builds rust_staticlib/, a `rustapp` crate that
#    is only the driver, itself (event_counter_link_rust_driver()).
# Either way the driver is linked exactly once.

set(EVENT_COUNTER_DRIVER_DIR ${CMAKE_CURRENT_LIST_DIR} CACHE INTERNAL "")

# event_counter_rust_application([C_MAIN])
#   rust_cargo_application(), plus the toolchain quirks below.
#   C_MAIN: the application's main() is C (its own, or ztest's), so
#   zephyr-lang-rust's main.c, whose main() calls rust_main(), is replaced by
#   its runtime hooks alone (rust_runtime.c).
function(event_counter_rust_application)
  cmake_parse_arguments(ARG "C_MAIN" "" "" ${ARGN})

  # bindgen (zephyr-sys) runs libclang, which does not know gcc's own header
  # directory (stddef.h, stdint.h) for Debian's bare-metal gcc toolchains
  # (gnuarmemb, cross-compile). rust_cargo_application() hands bindgen the
  # include directories of zephyr_interface as they are when it is called:
  # add gcc's directory for that call only, and restore the property before
  # the C compile reads it at generate time.
  set(extra_include)
  if(ZEPHYR_TOOLCHAIN_VARIANT MATCHES "^(gnuarmemb|cross-compile)$")
    execute_process(
      COMMAND ${CMAKE_C_COMPILER} -print-file-name=include
      OUTPUT_VARIABLE extra_include
      OUTPUT_STRIP_TRAILING_WHITESPACE)
  endif()
  get_target_property(saved_includes zephyr_interface INTERFACE_INCLUDE_DIRECTORIES)
  if(extra_include)
    set_property(TARGET zephyr_interface APPEND PROPERTY INTERFACE_INCLUDE_DIRECTORIES
      ${extra_include})
  endif()

  rust_cargo_application()

  if(extra_include)
    set_property(TARGET zephyr_interface PROPERTY INTERFACE_INCLUDE_DIRECTORIES
      "${saved_includes}")
  endif()

  if(ARG_C_MAIN)
    get_target_property(app_sources app SOURCES)
    list(REMOVE_ITEM app_sources $CACHE{RUST_MODULE_DIR}/main.c)
    set_property(TARGET app PROPERTY SOURCES ${app_sources})
    target_sources(app PRIVATE ${EVENT_COUNTER_DRIVER_DIR}/rust_runtime.c)
  endif()
endfunction()

# Deferred to the end of the application's CMakeLists.txt (see the top): by
# then an application with a Rust crate has built it (target librustapp).
function(event_counter_link_rust_driver)
  if(TARGET librustapp)
    return()
  endif()
  # rust_cargo_application() builds the crate in CMAKE_CURRENT_SOURCE_DIR and
  # writes into CMAKE_CURRENT_BINARY_DIR; zephyr-lang-rust 37dc7fa takes no
  # other way to name them. Name the driver's staticlib for this call only
  # (function scope).
  set(CMAKE_CURRENT_SOURCE_DIR ${EVENT_COUNTER_DRIVER_DIR}/rust_staticlib)
  set(CMAKE_CURRENT_BINARY_DIR ${CMAKE_BINARY_DIR}/modules/event_counter_rust)
  event_counter_rust_application(C_MAIN)
endfunction()

if(CONFIG_EVENT_COUNTER)
  cmake_language(DEFER DIRECTORY ${APPLICATION_SOURCE_DIR}
    CALL event_counter_link_rust_driver)
endif()
