# SPDX-License-Identifier: Apache-2.0
#
# Shared by the benchmark applications. Include BEFORE find_package(Zephyr):
# registers the repository as a Zephyr module (via cmake/event_counter.cmake)
# and adds the C baseline driver's binding.

list(APPEND DTS_ROOT ${CMAKE_CURRENT_LIST_DIR})
include(${CMAKE_CURRENT_LIST_DIR}/../../../cmake/event_counter.cmake)
set(BENCH_COMMON_DIR ${CMAKE_CURRENT_LIST_DIR})
