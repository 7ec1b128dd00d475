/// The tag bytes of the Erlang External Term Format, and the names used in messages.
///
/// Values are from OTP's `erl_ext_dist` documentation.
public enum ETFTag {
    public static let version: UInt8 = 131

    public static let newFloat: UInt8 = 70
    public static let bitBinary: UInt8 = 77
    public static let compressed: UInt8 = 80
    public static let smallInteger: UInt8 = 97
    public static let integer: UInt8 = 98
    public static let float: UInt8 = 99
    public static let atom: UInt8 = 100
    public static let reference: UInt8 = 101
    public static let port: UInt8 = 102
    public static let pid: UInt8 = 103
    public static let smallTuple: UInt8 = 104
    public static let largeTuple: UInt8 = 105
    public static let `nil`: UInt8 = 106
    public static let string: UInt8 = 107
    public static let list: UInt8 = 108
    public static let binary: UInt8 = 109
    public static let smallBig: UInt8 = 110
    public static let largeBig: UInt8 = 111
    public static let newFun: UInt8 = 112
    public static let export: UInt8 = 113
    public static let newReference: UInt8 = 114
    public static let smallAtom: UInt8 = 115
    public static let map: UInt8 = 116
    public static let atomUTF8: UInt8 = 118
    public static let smallAtomUTF8: UInt8 = 119
    public static let newPort: UInt8 = 89
    public static let newerReference: UInt8 = 90
    public static let newPid: UInt8 = 88
    public static let v4Port: UInt8 = 120

    /// The OTP name of a tag, for error messages (`"ATOM_UTF8_EXT"`), or nil for bytes that are no tag.
    public static func name(_ tag: UInt8) -> String? {
        switch tag {
        case 68: return "DIST_HEADER"
        case 69: return "DIST_FRAG_HEADER"
        case 70: return "NEW_FLOAT_EXT"
        case 73: return "BEAM-internal tag 73 ('I')"
        case 75: return "BEAM-internal tag 75 ('K')"
        case 77: return "BIT_BINARY_EXT"
        case 80: return "COMPRESSED"
        case 82: return "ATOM_CACHE_REF"
        case 88: return "NEW_PID_EXT"
        case 89: return "NEW_PORT_EXT"
        case 90: return "NEWER_REFERENCE_EXT"
        case 97: return "SMALL_INTEGER_EXT"
        case 98: return "INTEGER_EXT"
        case 99: return "FLOAT_EXT"
        case 100: return "ATOM_EXT"
        case 101: return "REFERENCE_EXT"
        case 102: return "PORT_EXT"
        case 103: return "PID_EXT"
        case 104: return "SMALL_TUPLE_EXT"
        case 105: return "LARGE_TUPLE_EXT"
        case 106: return "NIL_EXT"
        case 107: return "STRING_EXT"
        case 108: return "LIST_EXT"
        case 109: return "BINARY_EXT"
        case 110: return "SMALL_BIG_EXT"
        case 111: return "LARGE_BIG_EXT"
        case 112: return "NEW_FUN_EXT"
        case 113: return "EXPORT_EXT"
        case 114: return "NEW_REFERENCE_EXT"
        case 115: return "SMALL_ATOM_EXT"
        case 116: return "MAP_EXT"
        case 117: return "FUN_EXT"
        case 118: return "ATOM_UTF8_EXT"
        case 119: return "SMALL_ATOM_UTF8_EXT"
        case 120: return "V4_PORT_EXT"
        case 121: return "LOCAL_EXT"
        case 131: return "VERSION_MAGIC"
        default: return nil
        }
    }

    /// Tags that exist but that a stand-alone decoder cannot or will not read, with why.
    @usableFromInline
    static func unsupportedReason(_ tag: UInt8) -> String? {
        switch tag {
        case 68, 69: return "distribution headers only occur on a distribution channel, not in term_to_binary output"
        case 82: return "atom cache references need a distribution channel's atom cache"
        case 117: return "the pre-R7 fun encoding is no longer produced or accepted by OTP"
        case 121: return "OTP 26's local encoding is node-private and cannot be read by another program"
        case 73, 75: return "BEAM-internal encodings are not external terms"
        default: return nil
        }
    }

    /// `"tag 118 (ATOM_UTF8_EXT)"`: how messages refer to a tag.
    public static func describe(_ tag: UInt8) -> String {
        if let name = name(tag) { return "tag \(tag) (\(name))" }
        return "tag \(tag)"
    }
}
