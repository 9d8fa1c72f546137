/* ntor.c — ntor handshake (see onion_handshake.h). */
