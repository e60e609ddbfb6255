public import Logging

/// A swift-log `LogHandler` that redacts before anything reaches the handler it wraps.
///
/// The message, the error's description and every metadata value are scanned with a
/// ``Redactor``; metadata under secret key names (``RedactionConfiguration/secretKeys``) is
/// replaced outright. Set metadata and metadata providers on this handler, not on the wrapped
/// one, so that they pass through redaction too.
///
/// ```swift
/// LoggingSystem.bootstrap { label in
///     RedactingLogHandler(wrapping: StreamLogHandler.standardOutput(label: label))
/// }
/// ```
public struct RedactingLogHandler: LogHandler {
    /// The handler that writes the redacted events.
    public var wrapped: any LogHandler
    /// The redactor.
    public let redactor: Redactor
    /// Metadata added to every event (redacted like the event's own).
    public var metadata: Logger.Metadata = [:]
    /// A metadata provider whose values are redacted too.
    public var metadataProvider: Logger.MetadataProvider?

    /// - Parameters:
    ///   - wrapped: The handler that writes.
    ///   - redactor: The redactor (all detectors by default).
    public init(wrapping wrapped: any LogHandler, redactor: Redactor = Redactor()) {
        self.wrapped = wrapped
        self.redactor = redactor
        self.metadataProvider = wrapped.metadataProvider
        self.wrapped.metadataProvider = nil
    }

    /// The wrapped handler's level.
    public var logLevel: Logger.Level {
        get { self.wrapped.logLevel }
        set { self.wrapped.logLevel = newValue }
    }

    /// Reads or writes one metadata value.
    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { self.metadata[key] }
        set { self.metadata[key] = newValue }
    }

    /// Redacts the event and passes it on.
    public func log(event: LogEvent) {
        var merged = self.metadata
        if let provided = self.metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        var redacted = event
        redacted.message = Logger.Message(stringLiteral: self.redactor.redact(event.message.description))
        redacted.metadata = merged.isEmpty ? nil : self.redact(merged)
        if let error = event.error {
            redacted.error = RedactedError(description: self.redactor.redact(String(describing: error)))
        }
        self.wrapped.log(event: redacted)
    }

    func redact(_ metadata: Logger.Metadata) -> Logger.Metadata {
        var out: Logger.Metadata = [:]
        for (key, value) in metadata {
            out[key] = self.redactor.configuration.isSecretKey(key) ? .string("[REDACTED]") : self.redact(value)
        }
        return out
    }

    func redact(_ value: Logger.Metadata.Value) -> Logger.Metadata.Value {
        switch value {
        case .string(let text): return .string(self.redactor.redact(text))
        case .stringConvertible(let convertible): return .string(self.redactor.redact(convertible.description))
        case .array(let values): return .array(values.map { self.redact($0) })
        case .dictionary(let nested): return .dictionary(self.redact(nested))
        }
    }
}

/// An error whose description was redacted.
public struct RedactedError: Error, CustomStringConvertible, Sendable {
    /// The redacted description.
    public let description: String
}
