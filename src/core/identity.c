/* identity.c — a relay identity and its CERTS cell (see cert.h). */
