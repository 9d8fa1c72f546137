/* authcert.c — authority key certificates (see authcert.h). */
