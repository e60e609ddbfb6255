import Foundation

/// A value moved into a task by a harness that runs it to completion straight away: the
/// harness's thread waits and never touches it meanwhile.
package struct Handed<Value>: @unchecked Sendable {
    /// The value.
    package let value: Value
    /// Wraps `value`.
    package init(_ value: Value) { self.value = value }
}

/// Runs async code to completion from libFuzzer's synchronous callback.
/// - Returns: The result, or the error thrown.
package func runBlocking<T>(_ body: @escaping @Sendable () async throws -> T) -> Result<T, any Error> {
    let done = DispatchSemaphore(value: 0)
    let box = ResultBox<T>()
    Task {
        do {
            box.result = .success(try await body())
        } catch {
            box.result = .failure(error)
        }
        done.signal()
    }
    done.wait()
    // The semaphore orders the task's write before this read.
    return box.result!
}

/// Where ``runBlocking(_:)``'s task leaves its result.
private final class ResultBox<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
}
