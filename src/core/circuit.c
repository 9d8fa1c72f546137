/* circuit.c — see circuit.h. */
