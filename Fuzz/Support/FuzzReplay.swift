import Foundation

/// What a normal (non-fuzzer) build of a harness does: runs every file named on the command line,
/// or found below a directory named there, through the harness's `LLVMFuzzerTestOneInput`, so a
/// corpus or a crashing input can be replayed and debugged without libFuzzer.
package enum FuzzReplay {
    /// Replays the files and directories in `CommandLine.arguments` through `harness`.
    /// - Parameter harness: The harness's entry point, as libFuzzer calls it.
    package static func main(_ harness: (UnsafePointer<UInt8>?, Int) -> Int32) {
        let paths = CommandLine.arguments.dropFirst()
        guard !paths.isEmpty else {
            print("usage: \(CommandLine.arguments[0]) FILE_OR_DIRECTORY... (replays inputs through the fuzz harness)")
            return
        }
        var count = 0
        for path in paths {
            for file in Self.files(at: path) {
                guard let data = FileManager.default.contents(atPath: file) else {
                    print("cannot read \(file)")
                    exit(1)
                }
                let bytes = [UInt8](data)
                _ = bytes.withUnsafeBufferPointer { harness($0.baseAddress, $0.count) }
                count += 1
            }
        }
        print("replayed \(count) inputs")
    }

    /// `path` itself, or the regular files below it (sorted) when it is a directory.
    static func files(at path: String) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return [path] }
        let names = (FileManager.default.enumerator(atPath: path)?.allObjects as? [String]) ?? []
        return names.sorted().map { path + "/" + $0 }.filter {
            var nested: ObjCBool = false
            return FileManager.default.fileExists(atPath: $0, isDirectory: &nested) && !nested.boolValue
        }
    }
}
