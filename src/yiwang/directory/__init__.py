"""Directory (机构与区划): the five-level region tree, departments, service halls and windows."""
