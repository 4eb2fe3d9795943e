extension Duration {
    /// The duration in seconds, as a `Double` (timings for people and for ratios).
    public var seconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
