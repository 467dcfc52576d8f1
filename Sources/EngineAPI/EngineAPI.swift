// EngineAPI — see DESIGN.md.
