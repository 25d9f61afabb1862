# SPDX-License-Identifier: Apache-2.0
#
# Shared by the demo application (../CMakeLists.txt) and every test suite.
#
# Include this file BEFORE find_package(Zephyr): it registers the repository
# as a Zephyr module (driver, binding, Kconfig, header). After find_package(),
# call event_counter_rust_application() instead of rust_cargo_application().

get_filename_component(EVENT_COUNTER_ROOT ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)

# Found once more through west when this repository is the workspace
# manifest; zephyr_module.py keys modules by name, so that is harmless.
list(APPEND ZEPHYR_EXTRA_MODULES ${EVENT_COUNTER_ROOT})

# event_counter_rust_application([ZTEST])
#   ZTEST: the suite's main() is ztest's, so zephyr-lang-rust's main.c (which
#   defines main() to call rust_main()) is replaced by a copy of its runtime
#   hooks without main().
function(event_counter_rust_application)
  cmake_parse_arguments(ARG "ZTEST" "" "" ${ARGN})
  # Debian's arm-none-eabi and riscv64-unknown-elf toolchains
  # (ZEPHYR_TOOLCHAIN_VARIANT=gnuarmemb, cross-compile): libclang, which zephyr-sys runs through bindgen, does not know gcc's own
  # header directory (stddef.h, stdint.h). rust_cargo_application() hands
  # bindgen the include directories of zephyr_interface as they are when it
  # is called, so add gcc's directory for that call only and restore the
  # property before the C compile reads it at generate time.
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

  if(ARG_ZTEST)
    get_target_property(app_sources app SOURCES)
    list(REMOVE_ITEM app_sources $CACHE{RUST_MODULE_DIR}/main.c)
    set_property(TARGET app PROPERTY SOURCES ${app_sources})
    target_sources(app PRIVATE
      ${EVENT_COUNTER_ROOT}/tests/drivers/event_counter/common/rust_runtime.c)
  endif()

  if(extra_include)
    set_property(TARGET zephyr_interface PROPERTY INTERFACE_INCLUDE_DIRECTORIES
      "${saved_includes}")
  endif()
endfunction()
