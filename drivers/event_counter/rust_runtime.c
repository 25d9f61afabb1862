/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * zephyr-lang-rust's runtime hooks (its main.c) without its main(): for an
 * application whose main() is C - every C application, every ztest suite,
 * and Rust applications built with event_counter_rust_application(C_MAIN).
 * zephyr-lang-rust 37dc7fa's main.c would define a main() that calls a
 * rust_main() those applications do not have.
 */

#include <zephyr/kernel.h>

#if defined(CONFIG_LOG) && !defined(CONFIG_LOG_MINIMAL)
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
#endif /* CONFIG_LOG && !CONFIG_LOG_MINIMAL */

void rust_panic_wrap(void)
{
	k_panic();
}
