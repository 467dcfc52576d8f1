extension ContainerService {
    /// Publishes a container event with docker's attributes: the container's labels, `image`
    /// (as the user named it), `name`, and `extra` (`exitCode`, `signal`, `oldName`, …).
    func publish(_ action: String, _ record: ContainerRecord, _ extra: [String: String] = [:]) {
        var attributes = record.spec.labels
        attributes["image"] = record.imageName
        attributes["name"] = record.name
        attributes.merge(extra) { $1 }
        events.publish(EngineEvent(type: .container, action: action, actorID: record.id, attributes: attributes))
    }
}
