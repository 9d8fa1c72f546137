/* config.c — torrc-style configuration (see config.h). */
