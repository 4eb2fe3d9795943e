/// The class index a label holds, or `nil` when it holds none: the label must be a whole number in
/// `0..<classCount`.
///
/// Labels come from outside (a CSV file, a caller's arrays), so they may be `1e30`, `9.3e18`, `-1`, `2.5`, NaN or
/// infinite. The comparisons are made in floating point before converting, so no value traps; every conversion of
/// an outside label to `Int` in Canopy goes through here. `-0.0` is class 0.
///
/// - Parameters:
///   - label: the label as stored (a ``LabelColumn`` value, a batch's label).
///   - classCount: the number of classes, the head's width.
func classIndex(of label: Float, classCount: Int) -> Int? {
    // Float(classCount) is the float nearest classCount, so no whole float lies in classCount..<Float(classCount).
    guard label >= 0, label < Float(classCount), label == label.rounded(.towardZero) else { return nil }
    return Int(label)
}
