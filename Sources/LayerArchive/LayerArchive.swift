// LayerArchive — see DESIGN.md.
