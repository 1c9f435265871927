/// A storage reference made by BINPERSID: `('storage', type, key, location, numel)`.
struct PickledStorage {
    var key: String
    var dtype: TensorDType
    var count: Int
}

/// What `_rebuild_tensor_v2` was called with.
struct PickledTensor {
    var storage: PickledStorage
    var offset: Int
    var shape: [Int]
    var strides: [Int]
}

/// Mutable containers keep pickle's reference semantics (SETITEM on a memoised dict). A container
/// is frozen once it is placed inside another value: pickle fills containers before using them, and
/// refusing later changes keeps the cached depths exact and makes cycles impossible.
final class PickledDict {
    var pairs: [(PickleValue, PickleValue)] = []
    var depth = 1
    var frozen = false
    /// Made by `collections.OrderedDict()` (the only type BUILD is accepted on).
    let isOrderedDict: Bool
    init(isOrderedDict: Bool) { self.isOrderedDict = isOrderedDict }
}

/// A list, with a dict's reference semantics and freezing (see `PickledDict`).
final class PickledList {
    var items: [PickleValue] = []
    var depth = 1
    var frozen = false
}

/// A value on the machine's stack: what a state dict's pickle can build.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
    case tuple([PickleValue], depth: Int)
    case list(PickledList)
    case dict(PickledDict)
    case global(AllowedGlobal, String)
    case storage(PickledStorage)
    case tensor(PickledTensor)

    var kind: String {
        switch self {
        case .none: return "None"
        case .bool: return "a bool"
        case .int: return "an int"
        case .float: return "a float"
        case .string: return "a string"
        case .tuple(let items, _): return "a tuple of \(items.count)"
        case .list: return "a list"
        case .dict: return "a dict"
        case .global(_, let name): return name
        case .storage: return "a storage"
        case .tensor: return "a tensor"
        }
    }

    /// Marks a container as placed inside another value.
    func freeze() {
        switch self {
        case .list(let list): list.frozen = true
        case .dict(let dict): dict.frozen = true
        default: break
        }
    }

    /// Nesting depth, bounded so that no value is deep enough to overflow the stack when freed.
    var depth: Int {
        switch self {
        case .tuple(_, let depth): return depth
        case .list(let list): return list.depth
        case .dict(let dict): return dict.depth
        default: return 0
        }
    }
}
