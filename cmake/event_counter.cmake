# SPDX-License-Identifier: Apache-2.0
#
# Included by the demo application (../CMakeLists.txt), the test suites and
# the benchmarks of this repository, BEFORE find_package(Zephyr): registers
# this checkout as the event-counter Zephyr module, so that they build against
# the driver beside them even when west knows the module from another
# checkout (zephyr_module.py keys modules by name; ZEPHYR_EXTRA_MODULES wins).
#
# Applications elsewhere do not need this file: they get the module from the
# west manifest or ZEPHYR_EXTRA_MODULES (README, "Using the device from C").

get_filename_component(EVENT_COUNTER_ROOT ${CMAKE_CURRENT_LIST_DIR}/.. ABSOLUTE)
list(APPEND ZEPHYR_EXTRA_MODULES ${EVENT_COUNTER_ROOT})

# Zephyr v4.0 on qemu_riscv64/qemu_virt_riscv64/smp: every application that
# includes this file gets the settings in qemu_riscv64_smp.conf (it says why).
# BOARD comes from -DBOARD (west build -b, twister) or the environment.
if(DEFINED BOARD)
  set(event_counter_board "${BOARD}")
else()
  set(event_counter_board "$ENV{BOARD}")
endif()
if(event_counter_board MATCHES "^qemu_riscv64/qemu_virt_riscv64/smp")
  list(APPEND EXTRA_CONF_FILE ${CMAKE_CURRENT_LIST_DIR}/qemu_riscv64_smp.conf)
endif()
