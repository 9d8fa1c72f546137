/* consensus_verify.c — consensus signature verification (see consensus.h). */
