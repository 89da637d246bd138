"""pyrograph's benchmark suite: pyrograph against py-spy on fixed workloads."""
