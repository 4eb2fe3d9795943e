/// `text` widened with spaces to `width` characters (unchanged when it is as wide already): on the right, or on
/// the left (right-aligned) with `alignRight`. The terminal tables (epochs, scores, parameters) pad with it.
func padded(_ text: String, to width: Int, alignRight: Bool = false) -> String {
    let padding = String(repeating: " ", count: max(width - text.count, 0))
    return alignRight ? padding + text : text + padding
}
