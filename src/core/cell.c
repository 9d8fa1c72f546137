/* cell.c — cell codec (see cell.h). */
