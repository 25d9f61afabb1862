/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * The Rust runtime hooks of zephyr-lang-rust's main.c, without its main():
 * in a ztest suite, ztest's main() must run (it prints the final report), so
 * event_counter_rust_application(ZTEST) compiles this file instead.
 */

#include <zephyr/kernel.h>
#include <zephyr/logging/log.h>

LOG_MODULE_REGISTER(rust, LOG_LEVEL_INF);

void rust_log_message(uint32_t level, char *msg)
{
	switch (level) {
	case LOG_LEVEL_ERR:
		LOG_ERR("%s", msg);
		break;
	case LOG_LEVEL_WRN:
		LOG_WRN("%s", msg);
		break;
	case LOG_LEVEL_INF:
		LOG_INF("%s", msg);
		break;
	default:
		LOG_DBG("%s", msg);
		break;
	}
}

void rust_panic_wrap(void)
{
	k_panic();
}
