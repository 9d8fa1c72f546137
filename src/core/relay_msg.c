/* relay_msg.c — relay header, names and dispatch table (see relay_msg.h). */
