/* channel.c — see channel.h. */
