/// The report's one HTML file: the page template with its style, its script
/// and the data inlined, so it opens offline, from anywhere (docs/report.md).
enum ReportPage {
    static func html(title: String, tables: ReportTables, baseline: ReportTables?) -> [UInt8] {
        var data: [UInt8] = []
        data.reserveCapacity(tables.entryCount * 16 + 4096)
        data.append(contentsOf: Array("{\"title\":".utf8))
        ReportEncoding.jsonString(title, into: &data)
        data.append(contentsOf: Array(",\"capture\":".utf8))
        tables.json(into: &data)
        if let baseline {
            data.append(contentsOf: Array(",\"baseline\":".utf8))
            baseline.json(into: &data)
        }
        data.append(UInt8(ascii: "}"))
        var page: [UInt8] = []
        page.reserveCapacity(data.count + ReportAssets.js.utf8.count + 16384)
        // The template's markers, in their order: title, style, data, script.
        let parts: [(marker: String, text: [UInt8])] = [
            ("{{TITLE}}", htmlEscaped(title)),
            ("/*{{CSS}}*/", Array(ReportAssets.css.utf8)),
            ("{{DATA}}", data),
            ("/*{{JS}}*/", Array(ReportAssets.js.utf8)),
        ]
        var rest = Array(ReportAssets.html.utf8)[...]
        for part in parts {
            let marker = Array(part.marker.utf8)
            guard let at = firstIndex(of: marker, in: rest) else { preconditionFailure("report.html lacks \(part.marker)") }
            page.append(contentsOf: rest[..<at])
            page.append(contentsOf: part.text)
            rest = rest[(at + marker.count)...]
        }
        page.append(contentsOf: rest)
        return page
    }

    private static func firstIndex(of marker: [UInt8], in text: ArraySlice<UInt8>) -> Int? {
        guard text.count >= marker.count else { return nil }
        var i = text.startIndex
        while i + marker.count <= text.endIndex {
            if text[i] == marker[0], text[i..<(i + marker.count)].elementsEqual(marker) { return i }
            i += 1
        }
        return nil
    }

    /// Text for an HTML element's content.
    static func htmlEscaped(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "<"): out.append(contentsOf: Array("&lt;".utf8))
            case UInt8(ascii: ">"): out.append(contentsOf: Array("&gt;".utf8))
            case UInt8(ascii: "&"): out.append(contentsOf: Array("&amp;".utf8))
            case UInt8(ascii: "\""): out.append(contentsOf: Array("&quot;".utf8))
            default: out.append(byte)
            }
        }
        return out
    }
}
