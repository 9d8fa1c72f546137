/* dir_fetch.c — see dir_fetch.h. */
