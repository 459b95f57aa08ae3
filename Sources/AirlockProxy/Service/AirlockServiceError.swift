/// Why an ``AirlockService`` could not start: a policy, the audit log, the TLS material or a listener. One readable
/// message naming the file or address, never a matched value.
public struct AirlockServiceError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
