/* ntor_v3.c — ntor-v3 handshake (see onion_handshake.h). */
