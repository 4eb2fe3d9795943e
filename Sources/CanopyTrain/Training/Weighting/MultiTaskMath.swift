import Foundation

/// The arithmetic of the task-weighting methods, as plain functions on host arrays, each following its paper.
/// The trainer feeds them losses and gradients it reads from the device; unit tests check them by hand.
public enum MultiTaskMath {
    // MARK: Uncertainty weighting (Kendall, Gal & Cipolla, CVPR 2018)

    /// The gradient of `Σ_t exp(−s_t)·L_t + s_t` with respect to the log-variances s:
    /// `∂/∂s_t = 1 − exp(−s_t)·L_t`. (The paper's ½ factors for regression are folded into s, as is common.)
    public static func uncertaintyGradient(logVariances s: [Double], losses: [Double]) -> [Double] {
        zip(s, losses).map { 1 - exp(-$0) * $1 }
    }

    // MARK: Dynamic Weight Average (Liu, Johns & Davison, CVPR 2019)

    /// `w_t = T·exp(r_t/τ) / Σ_i exp(r_i/τ)` with `r_t = L_t(e−1) / L_t(e−2)`, from the mean training losses
    /// of the two previous epochs. (While fewer than two epochs are known, DWA's weights are all ones.)
    public static func dynamicWeightAverage(previous: [Double], beforePrevious: [Double], temperature: Double) -> [Double] {
        let ratios = zip(previous, beforePrevious).map { $1 > 0 ? $0 / $1 : 1 }
        let largest = ratios.map { $0 / temperature }.max() ?? 0
        let exps = ratios.map { exp($0 / temperature - largest) }
        let total = exps.reduce(0, +)
        return exps.map { Double(ratios.count) * $0 / total }
    }

    // MARK: GradNorm (Chen et al., ICML 2018)

    /// One GradNorm gradient of `L_grad = Σ_t |G_t − Ḡ·r_t^α|` with respect to the weights w, the targets held
    /// constant. `G_t = w_t·‖∇_W L_t‖` are the weighted gradient norms, `r_t = L̃_t / mean(L̃)` with
    /// `L̃_t = L_t / L_t(0)` the inverse training rates. `∂L_grad/∂w_t = sign(G_t − target_t)·‖∇_W L_t‖`.
    public static func gradNormGradient(weights w: [Double], weightedNorms g: [Double], losses: [Double],
                                        initialLosses: [Double], alpha: Double) -> [Double] {
        let ratios = zip(losses, initialLosses).map { $1 > 0 ? $0 / $1 : 1 }
        let meanRatio = ratios.reduce(0, +) / Double(ratios.count)
        let meanNorm = g.reduce(0, +) / Double(g.count)
        return w.indices.map { t in
            let target = meanNorm * pow(ratios[t] / meanRatio, alpha)
            let unweighted = w[t] != 0 ? g[t] / w[t] : 0
            let difference = g[t] - target
            return difference == 0 ? 0 : (difference > 0 ? unweighted : -unweighted)
        }
    }

    /// Keeps GradNorm's weights positive and summing to the number of tasks, as the paper renormalises them.
    public static func renormalized(_ w: [Double], floor: Double = 1e-3) -> [Double] {
        let clipped = w.map { max($0, floor) }
        let total = clipped.reduce(0, +)
        return clipped.map { Double(w.count) * $0 / total }
    }

    // MARK: PCGrad (Yu et al., NeurIPS 2020)

    /// Projects each task's gradient off the others it conflicts with, in a random order per task, and sums:
    /// for each t, for each j ≠ t in `order(t)`: if g_t·g_j < 0, `g_t ← g_t − (g_t·g_j / ‖g_j‖²)·g_j`
    /// (projecting against the ORIGINAL g_j). Returns Σ_t g_t.
    public static func pcGrad(_ gradients: [[Float]], order: (Int) -> [Int]) -> [Float] {
        let count = gradients.first?.count ?? 0
        var total = [Double](repeating: 0, count: count)
        let squaredNorms = gradients.map { dot($0, $0) }
        for t in gradients.indices {
            var g = gradients[t].map(Double.init)
            for j in order(t) where j != t {
                let product = zip(g, gradients[j]).reduce(0.0) { $0 + $1.0 * Double($1.1) }
                if product < 0, squaredNorms[j] > 0 {
                    let factor = product / squaredNorms[j]
                    for i in g.indices { g[i] -= factor * Double(gradients[j][i]) }
                }
            }
            for i in g.indices { total[i] += g[i] }
        }
        return total.map(Float.init)
    }

    // MARK: MGDA-UB (Sener & Koltun, NeurIPS 2018)

    /// The minimum-norm point of the convex hull of the gradients: α ≥ 0, Σα = 1 minimising ‖Σ_t α_t g_t‖²,
    /// by the Frank–Wolfe solver of the paper's Algorithm 2 on the Gram matrix (exact line search; the two-task
    /// case has the closed form α = clip((g₂−g₁)·g₂ / ‖g₁−g₂‖², 0, 1)).
    public static func minNormWeights(gram m: [[Double]], iterations: Int = 250, tolerance: Double = 1e-10) -> [Double] {
        let n = m.count
        guard n > 1 else { return [Double](repeating: 1, count: n) }
        if n == 2 {
            let denominator = m[0][0] + m[1][1] - 2 * m[0][1]
            let a = denominator > 0 ? min(max((m[1][1] - m[0][1]) / denominator, 0), 1) : 0.5
            return [a, 1 - a]
        }
        var alpha = [Double](repeating: 1 / Double(n), count: n)
        for _ in 0..<iterations {
            // Gradient of αᵀMα is 2Mα; Frank–Wolfe moves toward the vertex with the smallest (Mα)_t.
            let ma = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + m[i][$1] * alpha[$1] } }
            let t = ma.indices.min { ma[$0] < ma[$1] }!
            // Line search between the current point v1 = Σα g and the vertex v2 = g_t.
            let v1v1 = zip(alpha, ma).reduce(0.0) { $0 + $1.0 * $1.1 }
            let v1v2 = ma[t], v2v2 = m[t][t]
            let denominator = v1v1 + v2v2 - 2 * v1v2
            let gamma = denominator > 0 ? min(max((v1v1 - v1v2) / denominator, 0), 1) : 0
            if gamma * gamma * denominator < tolerance { break }
            for i in alpha.indices { alpha[i] *= 1 - gamma }
            alpha[t] += gamma
        }
        return alpha
    }

    /// The Gram matrix `M_ij = g_i·g_j` in double precision.
    public static func gram(_ gradients: [[Float]]) -> [[Double]] {
        gradients.map { a in gradients.map { b in dot(a, b) } }
    }

    // MARK: Diagnostics and Δm

    /// Cosine similarity of two gradients (0 when either is zero).
    public static func cosine(_ a: [Float], _ b: [Float]) -> Double {
        let denominator = (dot(a, a) * dot(b, b)).squareRoot()
        return denominator > 0 ? dot(a, b) / denominator : 0
    }

    /// The multi-task measure Δm (Maninis et al., 2019; Vandenhende et al., 2021), in percent:
    /// `Δm = (1/T) Σ_t (1/|M_t|) Σ_m (−1)^{l_m} (M_{m,t} − B_{m,t}) / B_{m,t} · 100`, where l_m = 1 when lower is
    /// better for metric m. Positive means the multi-task model beats the single-task baselines on average.
    public static func deltaM(multiTask: [[(name: String, value: Double)]], baselines: [[(name: String, value: Double)]]) -> Double {
        var total = 0.0
        for (task, baseline) in zip(multiTask, baselines) {
            var sum = 0.0, count = 0
            for (metric, reference) in zip(task, baseline) where reference.value != 0 && metric.value.isFinite {
                let sign: Double = ["mse", "mae", "loss"].contains(metric.name) ? -1 : 1
                sum += sign * (metric.value - reference.value) / abs(reference.value) * 100
                count += 1
            }
            if count > 0 { total += sum / Double(count) }
        }
        return multiTask.isEmpty ? 0 : total / Double(multiTask.count)
    }

    static func dot(_ a: [Float], _ b: [Float]) -> Double {
        var sum = 0.0
        for i in a.indices { sum += Double(a[i]) * Double(b[i]) }
        return sum
    }
}

extension MultiTaskMath {
    // MARK: Trace norm (soft sharing)

    /// The nuclear norm ‖A‖_* = Σ singular values of A (rows: tasks, columns: a parameter's elements) and its
    /// (sub)gradient U·Vᵀ, computed from the small T×T Gram matrix: with A·Aᵀ = Q·Λ·Qᵀ,
    /// `U·Vᵀ = Q·Λ^(−1/2)·Qᵀ·A` over the non-zero eigenvalues (directions with σ = 0 get the subgradient 0).
    public static func traceNorm(_ rows: [[Float]]) -> (value: Double, gradient: [[Float]]) {
        let gram = self.gram(rows)
        let (eigenvalues, vectors) = symmetricEigen(gram)
        let largest = eigenvalues.max() ?? 0
        var value = 0.0
        let n = rows.count
        // P = Q·Λ^(−1/2)·Qᵀ, then gradient = P·A.
        var p = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for k in 0..<n where eigenvalues[k] > largest * 1e-12 && eigenvalues[k] > 0 {
            let sigma = eigenvalues[k].squareRoot()
            value += sigma
            for i in 0..<n { for j in 0..<n { p[i][j] += vectors[i][k] * vectors[j][k] / sigma } }
        }
        let gradient = (0..<n).map { i in
            (0..<(rows.first?.count ?? 0)).map { c in Float((0..<n).reduce(0.0) { $0 + p[i][$1] * Double(rows[$1][c]) }) }
        }
        return (value, gradient)
    }

    /// Eigenvalues and eigenvectors (columns of the returned matrix) of a small symmetric matrix by cyclic Jacobi
    /// rotations.
    static func symmetricEigen(_ matrix: [[Double]]) -> (values: [Double], vectors: [[Double]]) {
        var a = matrix
        let n = a.count
        var v = (0..<n).map { i in (0..<n).map { $0 == i ? 1.0 : 0.0 } }
        for _ in 0..<100 {
            var off = 0.0
            for i in 0..<n { for j in 0..<n where i != j { off += a[i][j] * a[i][j] } }
            if off < 1e-30 { break }
            for p in 0..<n {
                for q in (p + 1)..<max(n, p + 1) where abs(a[p][q]) > 1e-300 {
                    let theta = (a[q][q] - a[p][p]) / (2 * a[p][q])
                    let t = (theta >= 0 ? 1.0 : -1.0) / (abs(theta) + (theta * theta + 1).squareRoot())
                    let c = 1 / (t * t + 1).squareRoot(), s = t * c
                    for k in 0..<n {
                        let akp = a[k][p], akq = a[k][q]
                        a[k][p] = c * akp - s * akq
                        a[k][q] = s * akp + c * akq
                    }
                    for k in 0..<n {
                        let apk = a[p][k], aqk = a[q][k]
                        a[p][k] = c * apk - s * aqk
                        a[q][k] = s * apk + c * aqk
                    }
                    for k in 0..<n {
                        let vkp = v[k][p], vkq = v[k][q]
                        v[k][p] = c * vkp - s * vkq
                        v[k][q] = s * vkp + c * vkq
                    }
                }
            }
        }
        return ((0..<n).map { a[$0][$0] }, v)
    }
}
