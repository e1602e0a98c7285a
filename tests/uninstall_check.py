# Run inside `odoo shell -d DB`: uninstall webcare_social, check nothing is left.
# Prints "CHECK uninstall: ok" or "CHECK uninstall: FAIL <what is left>".
module = env["ir.module.module"].search([("name", "=", "webcare_social")])
module.button_immediate_uninstall()
env.cr.commit()
cr = env.cr
left = []
cr.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'webcare%'")
left += [f"table {r[0]}" for r in cr.fetchall()]
cr.execute(
    "SELECT table_name, column_name FROM information_schema.columns "
    "WHERE column_name LIKE 'webcare%' AND table_schema = 'public'"
)
left += [f"column {r[0]}.{r[1]}" for r in cr.fetchall()]
cr.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE '%webcare%'")
left += [f"index {r[0]}" for r in cr.fetchall()]
cr.execute("SELECT model FROM ir_model WHERE model LIKE 'webcare.%'")
left += [f"model {r[0]}" for r in cr.fetchall()]
cr.execute("SELECT count(*) FROM ir_model_data WHERE module = 'webcare_social'")
count = cr.fetchone()[0]
if count:
    left.append(f"{count} ir_model_data rows")
cr.execute("SELECT name FROM ir_ui_view WHERE arch_db::text LIKE '%webcare_%'")
left += [f"view {r[0]}" for r in cr.fetchall()]
cr.execute("SELECT state FROM ir_module_module WHERE name = 'webcare_social'")
state = cr.fetchone()[0]
if state != "uninstalled":
    left.append(f"module state {state}")
print("CHECK uninstall: " + ("FAIL " + "; ".join(left) if left else "ok"))
