/// The answer of a `LIST` (Vault's `keys`): names, sorted.
public struct ListAnswer: Encodable, Sendable, Equatable {
    /// The names.
    public let keys: [String]

    /// Lists `keys`.
    public init(keys: [String]) {
        self.keys = keys
    }
}
