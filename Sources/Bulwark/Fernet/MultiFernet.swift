public import Foundation

extension Fernet {
    /// Several Fernet keys for rotation, like Python's `MultiFernet`: encrypts with the first,
    /// decrypts with any, and ``rotate(_:now:)`` re-encrypts a token under the first.
    public struct MultiKey: Sendable {
        /// The keys; the first is primary.
        public let keys: [Key]

        /// - Parameter keys: At least one key; the first is primary.
        /// - Throws: ``BulwarkError/Code/invalidArgument`` for an empty list.
        public init(_ keys: [Key]) throws {
            guard !keys.isEmpty else { throw BulwarkError(.invalidArgument, "MultiFernet needs at least one key") }
            self.keys = keys
        }

        /// Encrypts with the primary key.
        public func encrypt<Plaintext: DataProtocol>(_ plaintext: Plaintext, now: Date = Date()) throws -> String {
            try Fernet.encrypt(plaintext, using: self.keys[0], now: now)
        }

        /// Decrypts a token made with any of the keys.
        /// - Throws: as ``Fernet/decrypt(_:using:ttl:now:)``; `authenticationFailed` when no key fits.
        public func decrypt(_ token: String, ttl: TimeInterval? = nil, now: Date = Date()) throws -> Data {
            let (key, verified) = try self.verifyWithAnyKey(token)
            return try Fernet.open(verified, using: key, ttl: ttl, now: now)
        }

        /// Re-encrypts a token under the primary key, keeping its original timestamp.
        public func rotate(_ token: String, now: Date = Date()) throws -> String {
            let (key, verified) = try self.verifyWithAnyKey(token)
            let plaintext = try Fernet.open(verified, using: key, ttl: nil, now: now)
            return try Fernet.seal(plaintext, using: self.keys[0], timestamp: verified.timestamp, iv: SecureRandom.bytes(16))
        }

        private func verifyWithAnyKey(_ token: String) throws -> (Key, Fernet.Verified) {
            var lastError = BulwarkError(.authenticationFailed, "no key opens the Fernet token")
            for key in self.keys {
                do {
                    return (key, try Fernet.verify(token, using: key))
                } catch let error as BulwarkError where error.code == .authenticationFailed {
                    lastError = error
                }
            }
            throw lastError
        }
    }
}
