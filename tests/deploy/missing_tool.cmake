# Run by a Deploy.* test whose tool was not found at configure time: fail, saying why.
message(FATAL_ERROR "${MESSAGE}Install it and re-run cmake.")
