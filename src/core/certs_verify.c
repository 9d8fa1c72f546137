/* certs_verify.c — verifying a responder's CERTS cell (see cert.h). */
