// Snapshots — see DESIGN.md.
