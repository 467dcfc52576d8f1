import Testing
@testable import ContentStore
