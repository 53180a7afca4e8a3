"""Web layer (门户与工作台): server-rendered pages for citizens (portal) and staff (workbench). Thin views only."""
