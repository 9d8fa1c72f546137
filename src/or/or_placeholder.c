/* or_placeholder.c — the or module starts here; its issue fills it in. */
int om_or_module_present(void);
int om_or_module_present(void)
{
    return 1;
}
