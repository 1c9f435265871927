#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Principal angles between two subspaces, and the Grassmann distance d_G = √(Σ θ_k²) made of
/// them: every Grassmann kernel (`BlockGeometry`, `PairKernel`, `FullTaskVectors`) produces the
/// angles through these functions and leaves the distance to `grassmannDistance`.
///
/// The angles come from the cosines, the singular values of YᵢᵀYⱼ in descending order
/// (θ_k = acos σ_k, ascending). Where d² is small (< `sineThreshold`) acos loses digits for
/// angles below 45°, so those are recomputed from the sines, the singular values of the residual
/// of one basis against the other in descending order (the Knyazev–Argentati split that
/// `scipy.linalg.subspace_angles` uses): θ_k = asin(sines[k_max − 1 − k]).
public enum PrincipalAngles {
    /// Below this d² (rad²) the angles under 45° are refined from the sines.
    public static let sineThreshold = 1e-2

    /// Writes θ_k = acos(min(1, cos_k)) for the `count` cosines into `angles` and says whether
    /// the sine branch is needed (d² < `sineThreshold` and some angle below 45°).
    static func fromCosines(_ cosines: UnsafePointer<Double>, count: Int, into angles: UnsafeMutablePointer<Double>) -> Bool {
        var needsSines = false
        for k in 0..<count {
            angles[k] = acos(min(1, cosines[k]))
            if cosines[k] * cosines[k] >= 0.5 { needsSines = true }
        }
        return needsSines && squaredDistance(angles, count: count) < sineThreshold
    }

    /// Replaces each angle below 45° (cos² ≥ ½) by the arcsine of its sine; `sines` descending.
    static func refine(_ angles: UnsafeMutablePointer<Double>, cosines: UnsafePointer<Double>,
                       sines: UnsafePointer<Double>, count: Int) {
        for k in 0..<count where cosines[k] * cosines[k] >= 0.5 {
            angles[k] = asin(min(1, sines[count - 1 - k]))
        }
    }

    /// Σ θ_k², summed in order.
    static func squaredDistance(_ angles: UnsafePointer<Double>, count: Int) -> Double {
        var squared = 0.0
        for k in 0..<count { squared += angles[k] * angles[k] }
        return squared
    }

    /// d_G = √(Σ θ_k²) in radians, in [0, √k·π/2]; 0 for no angle. The one place it is computed.
    public static func grassmannDistance(_ angles: UnsafePointer<Double>, count: Int) -> Double {
        squaredDistance(angles, count: count).squareRoot()
    }

    /// d_G of an array of angles.
    public static func grassmannDistance(_ angles: [Double]) -> Double {
        angles.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return 0 }
            return grassmannDistance(base, count: buffer.count)
        }
    }
}
