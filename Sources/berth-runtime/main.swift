print("berth-runtime: not built yet")
