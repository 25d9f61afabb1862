/*
 * SPDX-License-Identifier: Apache-2.0
 *
 * A GPIO controller that fails its init, so that the event counter bound to
 * it must stay not-ready (startup ordering: its init runs after this one).
 */

#define DT_DRV_COMPAT vnd_failing_gpio

#include <zephyr/device.h>
#include <zephyr/drivers/gpio.h>

static int failing_gpio_init(const struct device *dev)
{
	ARG_UNUSED(dev);
	return -EIO;
}

static const struct gpio_driver_api failing_gpio_api;
static const struct gpio_driver_config failing_gpio_config = {
	.port_pin_mask = 0xFFFFFFFFU,
};

DEVICE_DT_INST_DEFINE(0, failing_gpio_init, NULL, NULL, &failing_gpio_config, POST_KERNEL,
		      CONFIG_GPIO_INIT_PRIORITY, &failing_gpio_api);
