// Runtime — see DESIGN.md.
