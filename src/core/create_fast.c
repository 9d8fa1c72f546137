/* create_fast.c — CREATE_FAST handshake (see onion_handshake.h). */
