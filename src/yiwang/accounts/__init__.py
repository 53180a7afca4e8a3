"""Accounts (用户与权限): users, persons, enterprises, agents, staff roles, login and the permission rules."""
