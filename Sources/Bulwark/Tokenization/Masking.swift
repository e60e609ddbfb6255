/// Irreversible masking: every character a template's groups select is replaced by one masking
/// character, the rest kept (`(\d{4})-(\d{4})-(\d{4})-\d{4}` shows only the last four digits).
public enum Masking {
    /// Masks `value` with `character` where `template`'s groups match.
    /// - Throws: ``BulwarkError/Code/invalidArgument`` when the value does not match the template.
    public static func mask(_ value: String, template: TransformTemplate, character: Character = "*") throws -> String {
        guard let groups = try template.groups(of: value) else {
            throw BulwarkError(.invalidArgument, "the value does not match the transformation's template")
        }
        let masked = groups.map { String(repeating: character, count: $0.count) }
        return TransformTemplate.replace(groups, in: value, with: masked)
    }
}
