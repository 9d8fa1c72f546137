/* netdoc.c — dir-spec document tokenizer (see netdoc.h). */
