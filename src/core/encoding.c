/* encoding.c — base64 and hex encodings (see crypto.h). */
