/* consensus.c — consensus parsing (see consensus.h). */
