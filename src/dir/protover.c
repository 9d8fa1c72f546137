/* protover.c — subprotocol version lists (see consensus.h). */
