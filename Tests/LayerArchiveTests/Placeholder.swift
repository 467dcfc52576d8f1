import Testing
@testable import LayerArchive
