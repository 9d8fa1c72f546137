/* microdesc.c — microdescriptors and exit policy summaries (see microdesc.h). */
