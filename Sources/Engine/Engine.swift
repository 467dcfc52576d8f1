// Engine — see DESIGN.md.
