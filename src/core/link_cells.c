/* link_cells.c — link handshake cell bodies (see link_cells.h). */
