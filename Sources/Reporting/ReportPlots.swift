import Charts

/// Scatter plots of many unlabelled points with a statistics note.
enum ReportPlots {
    static func scatter(points: [ScatterPoint], xTitle: String, yTitle: String, title: String, subtitle: String,
                        note: [String], width: Double) -> Scene {
        var map = ScatterMap(points: points.map { ScatterPoint(label: "", x: $0.x, y: $0.y, group: $0.group) },
                             xTitle: xTitle, yTitle: yTitle, title: title,
                             subtitle: ([subtitle] + note).joined(separator: " · "), equalAspect: false)
        map.showOrigin = false
        return map.scene(width: width)
    }
}
