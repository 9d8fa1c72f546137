/* bridge_placeholder.c — the bridge module starts here; its issue fills it in. */
int om_bridge_module_present(void);
int om_bridge_module_present(void)
{
    return 1;
}
