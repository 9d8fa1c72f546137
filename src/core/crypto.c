/* crypto.c — OpenSSL EVP wrappers (see crypto.h). */
