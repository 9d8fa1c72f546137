/* x509.c — X.509 creation and checks (see cert.h). */
