/// The one rule for names users give (keys, roles, transformations, templates, alphabets):
/// 1 to 128 characters from `A-Z a-z 0-9 . _ -`, and not `.` or `..` (a name is a path segment
/// in the API and in the store).
package enum Names {
    /// Whether `name` follows the rule.
    package static func isValid(_ name: String) -> Bool {
        (1...128).contains(name.utf8.count) && name != "." && name != ".."
            && name.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2E || byte == 0x5F || byte == 0x2D
            }
    }
}
