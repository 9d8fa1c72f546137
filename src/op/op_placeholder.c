/* op_placeholder.c — the op module starts here; its issue fills it in. */
int om_op_module_present(void);
int om_op_module_present(void)
{
    return 1;
}
