/* ordb_placeholder.c — the ordb module starts here; its issue fills it in. */
int om_ordb_module_present(void);
int om_ordb_module_present(void)
{
    return 1;
}
