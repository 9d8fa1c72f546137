/* dht_placeholder.c — the dht module starts here; its issue fills it in. */
int om_dht_module_present(void);
int om_dht_module_present(void)
{
    return 1;
}
