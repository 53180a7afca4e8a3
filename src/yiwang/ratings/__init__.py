"""好差评: five-level ratings of every service, the 差评 rectification loop, reports and disclosure."""
