/* relay_crypto.c — tor1 relay crypto (see relay_crypto.h). */
