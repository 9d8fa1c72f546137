/* transport_tls.c — see transport_tls.h. */
