print("pyrograph")
