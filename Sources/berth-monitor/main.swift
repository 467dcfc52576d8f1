print("berth-monitor: not built yet")
