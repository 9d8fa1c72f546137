/* ed_cert.c — Ed25519 certificates and the RSA cross-certificate (see cert.h). */
